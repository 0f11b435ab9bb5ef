"""The catalog: features, versioned prices, quotes and whole catalog files.

Read keys read it; admin keys change it, without a deploy.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from creditgate.domain.catalog import catalog_data
from creditgate.domain.errors import FeatureExists, FeatureNotFound, InvalidInput
from creditgate.http.deps import Admin, Engines, Reader
from creditgate.http.problems import documented
from creditgate.schemas import (
    ChangeOut,
    Deleted,
    FeatureIn,
    FeatureOut,
    FeatureUpdateIn,
    PriceIn,
    PriceOut,
    QuoteIn,
    QuoteOut,
    RetireIn,
    engine_quantity,
)

router = APIRouter(prefix="/v1", tags=["catalog"])

FeatureKey = Annotated[str, Path(max_length=100, examples=["audio.generate"])]


@router.get("/features", responses=documented())
def features(engine: Engines, key: Reader, category: str | None = None) -> list[FeatureOut]:
    """Every feature, active or not, by key; optionally of one category."""
    return [FeatureOut.of(f) for f in engine.features(category=category)]


@router.post("/features", responses=documented(FeatureExists))
def create_feature(body: FeatureIn, engine: Engines, key: Admin) -> FeatureOut:
    """Add a feature to the catalog (it is charged once it has a price)."""
    return FeatureOut.of(
        engine.create_feature(
            body.key,
            name=body.name,
            category=body.category,
            description=body.description,
            is_active=body.is_active,
        )
    )


@router.get("/features/{feature}", responses=documented(FeatureNotFound))
def get_feature(feature: FeatureKey, engine: Engines, key: Reader) -> FeatureOut:
    """One feature."""
    return FeatureOut.of(engine.get_feature(feature))


@router.patch("/features/{feature}", responses=documented(FeatureNotFound))
def update_feature(
    feature: FeatureKey, body: FeatureUpdateIn, engine: Engines, key: Admin
) -> FeatureOut:
    """Rename, recategorize, or (de)activate a feature: an inactive one is never charged."""
    return FeatureOut.of(
        engine.update_feature(
            feature,
            name=body.name,
            category=body.category,
            description=body.description,
            is_active=body.is_active,
        )
    )


@router.delete("/features/{feature}", responses=documented(FeatureNotFound))
def delete_feature(feature: FeatureKey, engine: Engines, key: Admin) -> Deleted:
    """Delete a feature never used; a used one is deactivated, so history keeps its name."""
    return Deleted(deleted=engine.delete_feature(feature))


@router.get("/features/{feature}/prices", responses=documented(FeatureNotFound))
def prices(
    feature: FeatureKey,
    engine: Engines,
    key: Reader,
    at: Annotated[datetime | None, Query(description="An instant; now by default")] = None,
) -> list[PriceOut]:
    """The price version in force for each model (retired ones included), now or at `at`."""
    return [PriceOut.of(p) for p in engine.prices(feature, at=at)]


@router.get("/features/{feature}/prices/history", responses=documented(FeatureNotFound))
def price_history(feature: FeatureKey, engine: Engines, key: Reader) -> list[PriceOut]:
    """Every version of every price of the feature, oldest first."""
    return [PriceOut.of(p) for p in engine.price_history(feature)]


@router.post("/features/{feature}/prices", responses=documented(FeatureNotFound))
def set_price(feature: FeatureKey, body: PriceIn, engine: Engines, key: Admin) -> PriceOut:
    """A new price version for a model, a family or every model, from now or later.

    Holds already taken keep the version they were priced at.
    """
    return PriceOut.of(
        engine.set_price(
            feature,
            body.rule,
            model=body.model,
            minimum=body.minimum,
            effective_from=body.effective_from,
        )
    )


@router.post("/features/{feature}/prices/retire", responses=documented(FeatureNotFound))
def retire_price(feature: FeatureKey, body: RetireIn, engine: Engines, key: Admin) -> PriceOut:
    """Stop pricing a model (or the feature-wide default) from now or later."""
    return PriceOut.of(
        engine.retire_price(feature, model=body.model, effective_from=body.effective_from)
    )


@router.post("/quote", responses=documented(FeatureNotFound))
def quote(body: QuoteIn, engine: Engines, key: Reader) -> QuoteOut:
    """What one call would cost, at which price version, and why."""
    return QuoteOut.of(
        engine.quote(
            body.feature,
            model=body.model,
            quantity=engine_quantity(body.quantity),
            at=body.at,
        )
    )


@router.get("/catalog", responses=documented())
def export_catalog(engine: Engines, key: Reader) -> dict[str, Any]:
    """The catalog in force, in the catalog file's form (as JSON)."""
    return catalog_data(engine.export_catalog())


@router.put("/catalog", responses=documented(InvalidInput))
def apply_catalog(
    engine: Engines,
    key: Admin,
    body: Annotated[dict[str, Any], Body(examples=[{"welcome": {"credits": "10"}}])],
    dry_run: bool = False,
) -> list[ChangeOut]:
    """Make the catalog match this file: all in one transaction; `dry_run` only lists."""
    return [ChangeOut.of(c) for c in engine.apply_catalog(body, dry_run=dry_run)]
