from ninja import Router

router = Router(tags=["Service levels"])
