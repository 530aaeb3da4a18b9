"""Counting a request's prompt tokens before sending it (the countTokens RPC)."""

from __future__ import annotations

from google.genai import Client, types

from reelscope.generation.errors import classify
from reelscope.generation.events import RunError
from reelscope.generation.request import GenerationRequest
from reelscope.generation.runner import Target
from reelscope.vertex import backend_of


def count_prompt_tokens(
    client: Client, request: GenerationRequest, target: Target
) -> int | RunError:
    """The prompt's token count as Vertex AI measures it, or why it could not be counted.

    The system instruction is part of the prompt the model reads, so it is counted too.
    """
    instruction = request.config.system_instruction
    contents, config = request.contents, None
    if instruction and client.vertexai:
        config = types.CountTokensConfig(system_instruction=instruction)
    elif instruction:
        # google-genai refuses a system instruction in countTokens on the Gemini Developer API:
        # its text is counted as one more content there, so it still counts as read.
        contents = [*contents, types.Content(role="user", parts=instruction.parts)]
    try:
        response = client.models.count_tokens(
            model=request.model_id, contents=contents, config=config
        )
    except Exception as exc:
        return classify(
            exc,
            model_id=request.model_id,
            project=target.project,
            location=target.location,
            backend=backend_of(client),
        )
    return response.total_tokens or 0
