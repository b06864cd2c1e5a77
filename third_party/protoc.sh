#!/bin/sh
# Runs Debian's protoc (package protobuf-compiler). Used by //third_party:proto.bzl.
exec /usr/bin/protoc "$@"
