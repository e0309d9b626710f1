#!/usr/bin/env bash
# Regenerate Sources/TetherPolicy/ONNX/onnx_subset.pb.swift from onnx_subset.proto.
#
# The generated Swift is committed to the repository. The protoc plugin is never run as part of
# `swift build`; run this script by hand only after editing onnx_subset.proto, and commit both files.
#
# Usage: tools/generate-onnx-proto.sh [SWIFT_PROTOBUF_REPO]
#   SWIFT_PROTOBUF_REPO  git URL or path of swift-protobuf to build protoc-gen-swift from
#                        (default: the local mirror /opt/swift-packages/apple/swift-protobuf.git).
# Needs `protoc` on PATH (Debian/Ubuntu: apt-get install protobuf-compiler) and a Swift toolchain.
# The plugin's version must match the SwiftProtobuf version the package resolves (SWIFT_PROTOBUF_TAG).
set -euo pipefail

SWIFT_PROTOBUF_REPO="${1:-/opt/swift-packages/apple/swift-protobuf.git}"
SWIFT_PROTOBUF_TAG="${SWIFT_PROTOBUF_TAG:-1.39.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROTO_DIR="$ROOT/Sources/TetherPolicy/ONNX"

command -v protoc >/dev/null || { echo "error: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "building protoc-gen-swift $SWIFT_PROTOBUF_TAG from $SWIFT_PROTOBUF_REPO ..."
git clone -q "$SWIFT_PROTOBUF_REPO" "$WORK/swift-protobuf"
git -C "$WORK/swift-protobuf" -c advice.detachedHead=false checkout -q "$SWIFT_PROTOBUF_TAG"
swift build -c release --package-path "$WORK/swift-protobuf" --product protoc-gen-swift
PLUGIN="$(swift build -c release --package-path "$WORK/swift-protobuf" --show-bin-path)/protoc-gen-swift"

echo "generating with $(protoc --version) ..."
protoc \
  --plugin=protoc-gen-swift="$PLUGIN" \
  --swift_out="$PROTO_DIR" \
  --swift_opt=Visibility=Internal \
  -I "$PROTO_DIR" \
  onnx_subset.proto

echo "wrote $PROTO_DIR/onnx_subset.pb.swift"
