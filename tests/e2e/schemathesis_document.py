#!/usr/bin/env python3
"""Writes the OpenAPI document of one deployment, for schemathesis.sh.

    schemathesis_document.py SOURCE OUTPUT BASE_URL BEARER_TOKEN PARTITIONS

api/openapi.yaml describes every deployment, so it cannot name what each deployment configures:
the model catalog and the teams' VPCs (serve's --catalog) and the topic's partition count. This
fills exactly those in, from the server under test, as the caller sees it:

  - components/schemas/ModelId gets an enum: the ids GET /v2/gen-ai/models lists;
  - components/schemas/KeyVpc's pattern becomes the caller's team's VPC ids (GET /v2/vpcs), in any
    letter case as the server compares them, or the empty string (no VPC); null stays allowed;
  - SkipRequest.partition gets its maximum: the last partition of the topic;
  - the If-Match header gets `format: entity-tag`, a format whose values schemathesis_hooks.py
    draws (the pattern is unchanged and still decides what is valid; see that file for why);
  - KeyExpiry's date-time branch is narrowed to times from the year after next on. The server's
    rule is "in the future", which moves with the clock and no schema can state; every time this
    narrowed schema allows is in the future for the whole run (whatever its offset), so it claims
    nothing the server refuses. A time in the past stays outside it, as the server says.

Everything else is api/openapi.yaml unchanged. Needs PyYAML (schemathesis depends on it).
"""
import datetime
import json
import re
import sys
import urllib.request

import yaml


def get(base_url, token, path):
    request = urllib.request.Request(base_url + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def any_case(uuid):
    """A regex for `uuid` in any letter case (the server lower-cases VPC ids before comparing)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in uuid)


def years_from(first):
    """A regex for the four-digit years from `first` to 9999."""
    digits = f"{first:04d}"
    branches = [digits]
    for i, d in enumerate(digits):
        if d != "9":
            rest = 3 - i
            branches.append(digits[:i] + f"[{int(d) + 1}-9]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(branches) + ")"


def main():
    source, output, base_url, token, partitions = sys.argv[1:6]
    with open(source, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    schemas = doc["components"]["schemas"]

    models = [m["id"] for m in get(base_url, token, "/v2/gen-ai/models")["data"]]
    if not models:
        sys.exit("the server's catalog lists no model")
    schemas["ModelId"]["enum"] = models

    vpcs = [v["id"] for v in get(base_url, token, "/v2/vpcs")["vpcs"]]
    schemas["KeyVpc"]["pattern"] = "^(?:" + "|".join(any_case(v) for v in vpcs) + ")?$" if vpcs else "^$"
    schemas["KeyVpc"].pop("format", None)

    schemas["SkipRequest"]["properties"]["partition"]["maximum"] = int(partitions) - 1
    doc["components"]["parameters"]["IfMatch"]["schema"]["format"] = "entity-tag"

    year = years_from(datetime.datetime.now(datetime.timezone.utc).year + 2)
    expiry = schemas["KeyExpiry"]
    expiry["anyOf"] = [
        {
            "type": "string",
            "nullable": True,
            "format": "date-time",
            "pattern": "^" + year + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]"
            r":[0-5][0-9](?:\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$",
        },
        {"type": "string", "maxLength": 0},
    ]
    expiry["description"] += " (This deployment's test document: times from the year after next on.)"

    with open(output, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    print(f"{output}: {len(models)} catalog models, {len(vpcs)} team VPCs, {partitions} partitions")


if __name__ == "__main__":
    main()
