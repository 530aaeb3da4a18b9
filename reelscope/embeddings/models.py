"""The two embedding models, each behind one `Embedder` interface, and never mixed.

A collection belongs to one model and one dimension (one vector space). `Embedder.embed` makes
exactly one API call for one `EmbedCall` and returns its vectors: one for a text or an image,
one per segment for a video window.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from reelscope.embeddings.items import EmbedCall, EmbeddingError, Item, ItemKind
from reelscope.settings import BACKEND_GEMINI_API, BACKEND_NAMES, BACKEND_VERTEX, ENV_PROJECT

if TYPE_CHECKING:
    from reelscope.settings import Settings

GEMINI_EMBEDDING_2 = "gemini-embedding-2"
MULTIMODAL_001 = "multimodalembedding@001"
# How to reach Vertex AI when the API key answers now (the sidebar's settings, in shell form).
TO_VERTEX = (f"export {ENV_PROJECT}=your-project-id", "export REELSCOPE_BACKEND=vertex")
# On the Developer API, Gemini Embedding 2 takes media inline or as a Files API reference, not a
# gs:// link (LiteLLM's notes on both APIs, third-party:
# https://docs.litellm.ai/blog/gemini_embedding_2_multimodal); google-genai sends videoMetadata
# there as on Vertex AI (its _Part_to_mldev). Not checked against the live service.
NO_GCS_ON_GEMINI_API = (
    "The Gemini Developer API cannot read Cloud Storage ({uri}); that needs Vertex AI. Add the "
    "file as an upload instead."
)


@dataclass(frozen=True)
class EmbeddingModel:
    """What one embedding model takes, and what it is for."""

    id: str
    label: str
    dimensions: tuple[int, ...]  # the sizes a user may pick (the first is the default)
    video_dimension: int | None  # fixed size of video vectors; None: the collection's size
    max_window_s: float  # longest video span one call may cover (no audio / audio unknown below)
    max_window_with_audio_s: float
    min_interval_s: float  # shortest segment
    default_interval_s: float
    image_mime_types: tuple[str, ...]
    video_mime_types: tuple[str, ...]
    good_for: str
    backends: tuple[str, ...] = (BACKEND_VERTEX,)  # where it is served (settings.BACKENDS)

    @property
    def default_dimension(self) -> int:
        return self.dimensions[0]

    def window_limit_s(self, has_audio: bool | None) -> float:
        """The longest span one call may cover. Audio unknown counts as audio (conservative)."""
        return self.max_window_s if has_audio is False else self.max_window_with_audio_s


# Gemini Embedding 2 limits from the model card (MODEL-FACTS §8, §9 item 7, validated
# conservatively): video 80 s with audio, 120 s without (the notebook's 128 s is not used),
# one video per call; each call gives one vector, so a video's segments are separate calls.
GEMINI = EmbeddingModel(
    id=GEMINI_EMBEDDING_2,
    label="Gemini Embedding 2",
    dimensions=(3072, 1536, 768, 512, 256, 128),
    video_dimension=None,
    max_window_s=120.0,
    max_window_with_audio_s=80.0,
    min_interval_s=1.0,
    default_interval_s=80.0,
    image_mime_types=(
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/bmp",
        "image/heic",
        "image/heif",
        "image/avif",
    ),
    video_mime_types=("video/mp4", "video/mpeg"),
    good_for=(
        "Google's current embedding model (GA April 2026) and the default. Texts (up to "
        "8,192 tokens), images and short videos share one space of up to 3,072 dimensions "
        "(smaller sizes keep most of the quality). One vector per call: a video gets one "
        "vector per window of at most 80 s with sound (120 s without)."
    ),
    # On the Gemini Developer API too: its model page lists the code `gemini-embedding-2`
    # (https://ai.google.dev/gemini-api/docs/models/gemini-embedding-2, updated 2026-04-22).
    backends=(BACKEND_VERTEX, BACKEND_GEMINI_API),
)

# multimodalembedding@001 (the seed's model): interval >= 4 s, at most 120 s of video a
# request; video vectors are always 1408-d whatever `dimension` says.
MULTIMODAL = EmbeddingModel(
    id=MULTIMODAL_001,
    label="multimodalembedding@001",
    dimensions=(1408, 512, 256, 128),
    video_dimension=1408,
    max_window_s=120.0,
    max_window_with_audio_s=120.0,
    min_interval_s=4.0,
    default_interval_s=16.0,
    image_mime_types=("image/png", "image/jpeg", "image/bmp", "image/gif"),
    video_mime_types=(
        "video/mp4",
        "video/quicktime",
        "video/x-msvideo",
        "video/x-flv",
        "video/mpeg",
        "video/webm",
        "video/x-ms-wmv",
        "video/3gpp",
    ),
    good_for=(
        "The seed's model (2024): per-segment video vectors — one 1408-d vector every "
        "4–120 s of video, up to 120 s a request (longer videos are split into several "
        "requests). Good for finding the moment in a video that matches a text or an image. "
        "Texts and images can be 128, 256, 512 or 1408-d; videos are always 1408-d. Google's "
        "newest API reference no longer lists it."
    ),
    backends=(BACKEND_VERTEX,),  # a Vertex AI prediction endpoint: no Developer API path
)

EMBEDDING_MODELS: dict[str, EmbeddingModel] = {GEMINI.id: GEMINI, MULTIMODAL.id: MULTIMODAL}


def embedding_model(model_id: str) -> EmbeddingModel:
    try:
        return EMBEDDING_MODELS[model_id]
    except KeyError:
        known = ", ".join(EMBEDDING_MODELS)
        raise EmbeddingError(
            f"Unknown embedding model {model_id!r}. Pick one of: {known} "
            "(REELSCOPE_EMBEDDING_MODEL sets the default)."
        ) from None


def check_dimension(model: EmbeddingModel, dimension: int) -> None:
    if dimension not in model.dimensions:
        sizes = ", ".join(str(d) for d in model.dimensions)
        raise EmbeddingError(f"{model.label} makes vectors of {sizes} dimensions, not {dimension}.")


@dataclass(frozen=True)
class Segment:
    """One vector an API call gave back; video vectors carry their span in seconds."""

    vector: np.ndarray
    start_s: float | None = None
    end_s: float | None = None


class Embedder(Protocol):
    model: EmbeddingModel
    dimension: int
    backend: str  # which backend answers its calls (settings.BACKENDS)

    def embed(self, call: EmbedCall) -> list[Segment]:
        """One API call. Raises the SDK's own errors (the job decides what is retried)."""
        ...


class GeminiEmbedder:
    """gemini-embedding-2 through google-genai `models.embed_content`, one content per call."""

    def __init__(self, client: Any, dimension: int = GEMINI.default_dimension) -> None:
        check_dimension(GEMINI, dimension)
        self.model = GEMINI
        self.dimension = dimension
        from reelscope.vertex import backend_of

        self.backend = backend_of(client)
        self._client = client  # keep the reference: a collected Client closes its transport

    def embed(self, call: EmbedCall) -> list[Segment]:
        from google.genai import types

        if self.backend == BACKEND_GEMINI_API and (call.uri or "").startswith("gs://"):
            raise EmbeddingError(NO_GCS_ON_GEMINI_API.format(uri=call.uri))  # before any call

        config = types.EmbedContentConfig(output_dimensionality=self.dimension)
        answer = self._client.models.embed_content(
            model=self.model.id, contents=types.Content(parts=[_genai_part(call)]), config=config
        )
        values = answer.embeddings[0].values
        if call.kind is ItemKind.VIDEO:
            return [Segment(_vector(values), call.window.start_s, call.window.end_s)]
        return [Segment(_vector(values))]


class StoredVectorsOnly:
    """The embedder of a collection whose model this backend does not serve: it makes no call.
    A query already stored (the collection's own text or image, the vector cache) is answered
    from its vector; anything new, and any job, is refused with `reason`."""

    def __init__(self, model: EmbeddingModel, dimension: int, reason: str) -> None:
        self.model = model
        self.dimension = dimension
        self.backend = model.backends[0]  # where a call would have to go
        self.reason = reason

    def embed(self, call: EmbedCall) -> list[Segment]:
        raise EmbeddingError(self.reason)


def _genai_part(call: EmbedCall) -> Any:
    from google.genai import types

    if call.kind is ItemKind.TEXT:
        return types.Part(text=call.text)
    if call.uri:
        part = types.Part(file_data=types.FileData(file_uri=call.uri, mime_type=call.mime_type))
    else:
        data = call.read_bytes()
        part = types.Part(inline_data=types.Blob(data=data, mime_type=call.mime_type))
    if call.kind is ItemKind.VIDEO and call.window is not None and not call.window.whole:
        part.video_metadata = types.VideoMetadata(
            start_offset=f"{call.window.start_s:g}s", end_offset=f"{call.window.end_s:g}s"
        )
    return part


class MultimodalEmbedder:
    """multimodalembedding@001 through aiplatform `PredictionServiceClient.predict`."""

    def __init__(self, client: Any, project: str, location: str, dimension: int = 1408) -> None:
        check_dimension(MULTIMODAL, dimension)
        self.model = MULTIMODAL
        self.dimension = dimension
        self.backend = BACKEND_VERTEX  # a Vertex AI prediction endpoint
        self._client = client
        self._endpoint = (
            f"projects/{project}/locations/{location}/publishers/google/models/{MULTIMODAL.id}"
        )

    def embed(self, call: EmbedCall) -> list[Segment]:
        instance, parameters = multimodal_request(call, self.dimension)
        answer = self._client.predict(
            endpoint=self._endpoint, instances=[instance], parameters=parameters
        )
        # proto-plus's public to_dict turns the Struct predictions into plain dicts and lists
        prediction = type(answer).to_dict(answer)["predictions"][0]
        if call.kind is ItemKind.TEXT:
            return [Segment(_vector(prediction["textEmbedding"]))]
        if call.kind is ItemKind.IMAGE:
            return [Segment(_vector(prediction["imageEmbedding"]))]
        return [
            Segment(
                _vector(seg["embedding"]),
                float(seg.get("startOffsetSec", 0.0)),
                float(seg.get("endOffsetSec", 0.0)),
            )
            for seg in prediction.get("videoEmbeddings", [])
        ]


def multimodal_request(call: EmbedCall, dimension: int) -> tuple[dict, dict]:
    """The predict instance and parameters, shaped like the seed's Go sample."""
    instance: dict[str, Any] = {}
    if call.kind is ItemKind.TEXT:
        instance["text"] = call.text
    else:
        media: dict[str, Any] = (
            {"gcsUri": call.uri}
            if call.uri
            else {"bytesBase64Encoded": base64.b64encode(call.read_bytes()).decode("ascii")}
        )
        if call.kind is ItemKind.IMAGE:
            instance["image"] = media
        else:
            window = call.window
            media["videoSegmentConfig"] = {
                "startOffsetSec": _whole(window.start_s),
                "endOffsetSec": _whole(window.end_s),
                "intervalSec": _whole(window.interval_s),
            }
            instance["video"] = media
    parameters = {} if call.kind is ItemKind.VIDEO else {"dimension": dimension}
    return instance, parameters


def _whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _vector(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def make_embedder(settings: Settings, model_id: str, dimension: int | None = None) -> Embedder:
    """The embedder for one model and size, its client built by reelscope/vertex.py."""
    from reelscope import vertex

    model = embedding_model(model_id)
    size = dimension or model.default_dimension
    refused = not_served_here(model, vertex.describe_connection(settings).backend)
    if refused:
        raise vertex.NotConnected(refused, TO_VERTEX)
    if model is GEMINI:
        return GeminiEmbedder(vertex.make_genai_client(settings), size)
    client = vertex.make_prediction_client(settings)
    location = vertex.prediction_location(settings)
    return MultimodalEmbedder(client, settings.project or "", location, size)


def not_served_here(model: EmbeddingModel, backend: str) -> str | None:
    """Why `model` cannot be called on `backend` (None when it can): its collections still
    open, map and find neighbours (local), but nothing more is embedded into them here."""
    if backend in model.backends:
        return None
    served = " and ".join(BACKEND_NAMES[b] for b in model.backends)
    return (
        f"{model.label} is served only by {served}, and Reelscope uses the "
        f"{BACKEND_NAMES[backend]} now. Its collections' maps, selections and nearest rows "
        "still work; embedding more into one, or searching it with a new text or image, "
        f"needs {served}."
    )


def embed_query(embedder: Embedder, *, text: str | None = None, image: Item | None = None):
    """One vector for a query (a text, or an image item), in the embedder's space."""
    from reelscope.embeddings.items import plan_calls

    if (text is None) == (image is None):
        raise EmbeddingError("Give a text or an image to search with.")
    if text is not None:
        if not text.strip():
            raise EmbeddingError("Type something to search for.")
        item = Item(kind=ItemKind.TEXT, label=text.strip(), text=text.strip())
    else:
        item = image
    calls = plan_calls(item, embedder.model)
    return embedder.embed(calls[0])[0].vector
