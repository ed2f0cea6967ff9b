"""Helpers for the simulator's tests: an authorized HTTP session and validators of Amazon's models."""
from datetime import datetime, timedelta, timezone

import requests
from jsonschema import Draft4Validator

from bind_amazon_connector.spapi import SpApi, SpApiConfig
from spapi_simulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from spapi_simulator.contract import OPERATIONS

MX = "A1AM78C64UM0Y8"


def lwa_token(sim, refresh_token=REFRESH_TOKEN):
    answer = requests.post(sim.token_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token,
                                                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, timeout=5)
    answer.raise_for_status()
    return answer.json()["access_token"]


def simulator_api(sim, speed, *, pacer=None, **config):
    """The addon's SP-API client on the simulator ``sim``, paced at its ``speed``, retrying fast; ``config``
    overrides the other settings of its ``SpApiConfig``."""
    values = {"lwa_client_id": CLIENT_ID, "lwa_client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
              "seller_id": sim.seller_id, "endpoint": sim.url, "token_url": sim.token_url, "pacing_speed": speed,
              "backoff_base": 0.01, "timeout": 5.0, **config}
    return SpApi(SpApiConfig(**values), pacer=pacer)


def ago(**kw):
    """That long before now, in UTC."""
    return datetime.now(timezone.utc) - timedelta(**kw)


def authorized_session(sim):
    session = requests.Session()
    session.headers["x-amz-access-token"] = lwa_token(sim)
    return session


def response_validator(spapi_models, operation, status):
    """A plain Draft4Validator of ``operation``'s documented answer for ``status``, built from the model file."""
    method, path, model_file = OPERATIONS[operation]
    model = spapi_models(model_file)
    response = model["paths"][path][method.lower()]["responses"][str(status)]
    return Draft4Validator({**response["schema"], "definitions": model["definitions"]})


def assert_valid(spapi_models, operation, answer):
    """The HTTP answer's JSON body is what Amazon's model documents for its status."""
    validator = response_validator(spapi_models, operation, answer.status_code)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(answer.json())]
    assert errors == [], f"{operation} {answer.status_code} answer breaks the model: {errors[:5]}"
