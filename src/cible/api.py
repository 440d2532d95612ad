"""The REST API: one NinjaAPI under /api/v1/, assembled from each app's router."""

from ninja import NinjaAPI

api = NinjaAPI(title="Cible API", version="1", urls_namespace="api")
