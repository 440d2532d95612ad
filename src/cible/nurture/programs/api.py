from ninja import Router

router = Router(tags=["Nurture programs"])
