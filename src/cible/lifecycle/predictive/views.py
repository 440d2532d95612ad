"""Pages of predictive scoring (SPEC C5): the models trained with a "Train a model" form, a
model's report as a sales director reads it, and a lead's probability explained (a partial the
lead page loads with hx-get).

Thin over `selectors` and `services`: the services decide who may train and choose a model.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cible.core.audit import Channel
from cible.core.errors import CibleError, NotFound, PermissionDenied
from cible.lifecycle.predictive import selectors, services
from cible.lifecycle.predictive.forms import TrainForm
from cible.lifecycle.predictive.models import PredictiveModel, TrainingStatus

PER_PAGE = 25


def _model(request: HttpRequest, pk: int) -> PredictiveModel:
    try:
        return selectors.model_get(viewer=request.user, pk=pk)
    except NotFound:
        raise Http404 from None


def _require_trainer(request: HttpRequest) -> None:
    if not services.may_train(request.user):
        raise DjangoPermissionDenied(
            _("Only Marketing, sales managers and administrators train predictive models.")
        )


# --- the list and the training form -------------------------------------------------------------


def _models_context(request: HttpRequest) -> dict[str, Any]:
    page = Paginator(selectors.models_queryset(viewer=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return {
        "page": page,
        "models": list(page.object_list),
        "training": any(m.status == TrainingStatus.TRAINING for m in page.object_list),
    }


def _list(request: HttpRequest, form: TrainForm | None, *, status: int = 200) -> HttpResponse:
    may_train = services.may_train(request.user)
    if may_train and form is None:
        choices = selectors.training_choices()
        form = TrainForm(initial=choices.initial(), choices=choices)
    context = {**_models_context(request), "form": form, "may_train": may_train}
    return render(request, "predictive/model_list.html", context, status=status)


@login_required
@require_GET
def model_list_view(request: HttpRequest) -> HttpResponse:
    return _list(request, None)


@login_required
@require_GET
def models_table_view(request: HttpRequest) -> HttpResponse:
    """The table alone, polled while a model trains (it stops polling once none does)."""
    return render(request, "predictive/_models.html", _models_context(request))


@login_required
@require_POST
def train_view(request: HttpRequest) -> HttpResponse:
    _require_trainer(request)
    form = TrainForm(request.POST, choices=selectors.training_choices())
    if form.is_valid():
        try:
            model = services.train_now(
                actor=request.user,
                channel=Channel.UI,
                target=form.cleaned_data["target"],
                config=form.config(),
            )
        except PermissionDenied as error:
            raise DjangoPermissionDenied(str(error)) from None
        except CibleError as error:
            form.show(error)
        else:
            messages.success(
                request,
                _("Model #%(id)s is training; this page shows its figures when it is done.")
                % {"id": model.pk},
            )
            return HttpResponseRedirect(reverse("predictive:list"))
    return _list(request, form, status=422)


# --- a model's report ---------------------------------------------------------------------------


@login_required
@require_GET
def model_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    model = _model(request, pk)
    context = {
        "model": model,
        "report": selectors.report_of(model) if model.status == TrainingStatus.READY else None,
        "may_train": services.may_train(request.user),
    }
    return render(request, "predictive/model_detail.html", context)


@login_required
@require_GET
def model_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled while the model trains; once it is done the page reloads with its report."""
    model = _model(request, pk)
    if model.status != TrainingStatus.TRAINING:
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return render(request, "predictive/_training.html", {"model": model})


@login_required
@require_POST
def model_activate_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_trainer(request)
    model = _model(request, pk)
    try:
        services.activate(model=model, actor=request.user, channel=Channel.UI)
    except PermissionDenied as error:
        raise DjangoPermissionDenied(str(error)) from None
    except CibleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "Model #%(id)s now gives the leads their probabilities; the rule model still "
                "moves the stages."
            )
            % {"id": model.pk},
        )
    return HttpResponseRedirect(reverse("predictive:detail", args=[model.pk]))


# --- a lead's prediction ------------------------------------------------------------------------


@login_required
@require_GET
def lead_prediction_view(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Why a lead has its probability: a partial for the lead page (`hx-get`), or a page."""
    try:
        prediction = selectors.lead_prediction(viewer=request.user, pk=lead_id)
    except NotFound:
        raise Http404 from None
    htmx = getattr(request, "htmx", False)
    template = "predictive/_prediction.html" if htmx else "predictive/prediction.html"
    return render(request, template, {"prediction": prediction, "lead": prediction.lead})
