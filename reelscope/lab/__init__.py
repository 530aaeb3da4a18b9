"""The prompt lab: a prompt across many videos and models, online or as a Vertex AI batch job."""
