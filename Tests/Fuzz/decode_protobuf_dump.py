"""Decodes every OTLP request the protobuf fuzz target wrote (scripts/fuzz) with the official
opentelemetry-proto classes: NAME.traces.pb / NAME.metrics.pb must parse, and must be the same
message as our OTLP/JSON encoding of the same data (NAME.*.json, ids converted from hex as the
Collector does).

Usage: decode_protobuf_dump.py DIR"""
import base64
import json
import pathlib
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

ID_KEYS = {"traceId", "spanId", "parentSpanId"}


def hex_ids_to_base64(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ID_KEYS and isinstance(value, str):
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            hex_ids_to_base64(item)


def first_difference(a, b, path=""):
    """The first place two decoded messages differ: (path, value in a, value in b)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return path, a, b


def main(directory):
    failures = 0
    files = sorted(pathlib.Path(directory).glob("*.pb"))
    for pb in files:
        kind = pb.suffixes[-2]
        make = (trace_service_pb2.ExportTraceServiceRequest if kind == ".traces"
                else metrics_service_pb2.ExportMetricsServiceRequest)
        try:
            from_protobuf = make()
            from_protobuf.ParseFromString(pb.read_bytes())
            doc = json.loads(pb.with_suffix(".json").read_bytes())
            hex_ids_to_base64(doc)
            from_json = make()
            json_format.Parse(json.dumps(doc), from_json)
        except Exception as error:  # noqa: BLE001 - any failure to decode is the finding
            print(f"decode_protobuf_dump: {pb.name}: {type(error).__name__}: {error}", file=sys.stderr)
            failures += 1
            continue
        # Compared as decoded dicts: JSON cannot carry a NaN's payload bits, and needs not.
        decoded_protobuf, decoded_json = json_format.MessageToDict(from_protobuf), json_format.MessageToDict(from_json)
        if decoded_protobuf != decoded_json:
            path, a, b = first_difference(decoded_protobuf, decoded_json)
            print(f"decode_protobuf_dump: {pb.name}: protobuf and JSON encodings differ at {path}: "
                  f"{json.dumps(a)[:300]} (protobuf) vs {json.dumps(b)[:300]} (JSON)", file=sys.stderr)
            failures += 1
    print(f"decode_protobuf_dump: {len(files)} requests decoded with the official protos, {failures} failed")
    return 1 if failures or not files else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
