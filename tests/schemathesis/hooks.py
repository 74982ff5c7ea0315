"""Schemathesis hooks for Talk Zone (loaded by run.sh through SCHEMATHESIS_HOOKS).

The moderation policy is TOML (`PUT /v1/admin/moderation/policy`, `application/toml`, a string
in the document): send generated strings as text, as for text/plain. The text answers
(TOML, CSV, SVG) are declared as strings: hand them to the response schema check as text.
"""

import schemathesis

schemathesis.serializer.alias("application/toml", "text/plain")


@schemathesis.deserializer("application/toml", "text/csv", "image/svg+xml")
def as_text(ctx, response):
    return response.content.decode("utf-8")
