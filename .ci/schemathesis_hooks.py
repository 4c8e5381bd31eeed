"""Schemathesis signs in as the test user through the API's own token endpoint.

A fuzzed `DELETE /api/v1/auth/token/` revokes the token; the next request's 401 makes
schemathesis ask for a new one (`retry_on` defaults to 401) and replay the request.
"""

import os

import requests
import schemathesis

URL = os.environ["MYBELLA_URL"]


@schemathesis.auth()
class TokenAuth:
    def get(self, case: schemathesis.Case, context: object) -> str:
        response = requests.post(
            f"{URL}/api/v1/auth/token/",
            json={
                "username": os.environ["MYBELLA_USERNAME"],
                "password": os.environ["MYBELLA_PASSWORD"],
            },
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}
