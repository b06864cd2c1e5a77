"""cc_proto: C++ code from .proto files with Debian's /usr/bin/protoc.

Native proto_library / cc_proto_library are NOT used: they would make Bazel
fetch @com_google_protobuf. Instead a genrule runs protoc and a cc_library
compiles the generated .pb.cc against Debian's libprotobuf.

    load("//third_party:proto.bzl", "cc_proto")

    cc_proto(
        name = "foo_proto",
        srcs = ["foo.proto"],
        deps = [":bar_proto"],      # other cc_proto targets that foo.proto imports
    )

Import paths are relative to the workspace root (import "core/x/bar.proto";),
and C++ includes likewise (#include "core/x/foo.pb.h"). The well-known types
(google/protobuf/*.proto) come from /usr/include and libprotobuf.

The macro defines:
  <name>           cc_library over the generated foo.pb.cc / foo.pb.h
  <name>_srcs      filegroup of the .proto files (used by dependent cc_protos)
  <name>_genproto  the genrule running protoc
"""

# Generated code is not ours to fix: compile it without warnings so that
# project-wide -Werror (see .bazelrc) never trips on protoc's output.
GENERATED_CODE_COPTS = ["-w"]

def cc_proto(name, srcs, deps = [], visibility = None, testonly = None, **kwargs):
    if not srcs:
        fail("cc_proto %s: srcs must not be empty" % name)
    for src in srcs:
        if not src.endswith(".proto") or ":" in src or src.startswith("/"):
            fail("cc_proto %s: srcs must be .proto files of this package, got %s" % (name, src))

    bases = [src[:-len(".proto")] for src in srcs]
    hdrs = [b + ".pb.h" for b in bases]
    ccs = [b + ".pb.cc" for b in bases]
    dep_srcs = [_srcs_label(d) for d in deps]

    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + dep_srcs,
        visibility = visibility,
        testonly = testonly,
    )

    native.genrule(
        name = name + "_genproto",
        srcs = srcs + dep_srcs,
        outs = hdrs + ccs,
        tools = ["//third_party:protoc"],
        cmd = ("$(location //third_party:protoc) --proto_path=. " +
               "--cpp_out=$(GENDIR) " +
               " ".join(["$(location %s)" % s for s in srcs])),
        message = "protoc %s" % native.package_name(),
        visibility = ["//visibility:private"],
        testonly = testonly,
    )

    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        copts = GENERATED_CODE_COPTS,
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
        testonly = testonly,
        **kwargs
    )

def _srcs_label(dep):
    """':foo' -> ':foo_srcs', '//a/b:foo' -> '//a/b:foo_srcs', '//a/b' -> '//a/b:b_srcs'."""
    if ":" in dep:
        return dep + "_srcs"
    return dep + ":" + dep.split("/")[-1] + "_srcs"
