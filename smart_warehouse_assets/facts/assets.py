"""The facts of the code location, one module each (SQL, checks and asset side by side)."""

from smart_warehouse_assets.facts.application_processing import fact_application_processing
from smart_warehouse_assets.facts.eligibility_scoring import fact_eligibility_scoring
from smart_warehouse_assets.facts.payments import fact_payments
from smart_warehouse_assets.facts.prediction_outcome import fact_prediction_outcome
from smart_warehouse_assets.facts.service_applications import fact_service_applications

fact_assets = [fact_service_applications, fact_application_processing, fact_eligibility_scoring,
               fact_prediction_outcome, fact_payments]
