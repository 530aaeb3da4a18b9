"""Counting a request's prompt tokens before sending it (the countTokens RPC)."""

from __future__ import annotations

from google.genai import Client

from reelscope.generation.errors import classify
from reelscope.generation.events import RunError
from reelscope.generation.request import GenerationRequest
from reelscope.generation.runner import Target


def count_prompt_tokens(
    client: Client, request: GenerationRequest, target: Target
) -> int | RunError:
    """The prompt's token count as Vertex AI measures it, or why it could not be counted."""
    try:
        response = client.models.count_tokens(model=request.model_id, contents=request.contents)
    except Exception as exc:
        return classify(
            exc, model_id=request.model_id, project=target.project, location=target.location
        )
    return response.total_tokens or 0
