#include "replay/subject_arena.h"

#include <new>

#include "absl/strings/str_cat.h"

namespace replay {

std::vector<std::string> WithArenaKeys(std::vector<std::string> keys) {
  for (const char* key : {"arena", "client_size", "commit_limit", "grain", "chunk", "mlworks",
                          "arena_spare", "arena_precommit"}) {
    keys.push_back(key);
  }
  return keys;
}

absl::Status MakeSubjectArena(const PolicySpec& spec, SubjectArena* out) {
  absl::StatusOr<bool> mlworks = spec.GetBool("mlworks", false);
  if (!mlworks.ok()) return mlworks.status();
  core::ArenaOptions options = *mlworks ? core::ArenaOptions::MlWorks() : core::ArenaOptions{};
  absl::StatusOr<std::uint64_t> grain = spec.GetSize("grain", options.grain_size);
  absl::StatusOr<std::uint64_t> chunk = spec.GetSize("chunk", options.chunk_size);
  absl::StatusOr<std::uint64_t> limit = spec.GetSize("commit_limit", 0);
  absl::StatusOr<double> spare = spec.GetDouble("arena_spare", options.spare);
  absl::StatusOr<std::uint64_t> precommit = spec.GetSize("arena_precommit", 0);
  absl::StatusOr<std::uint64_t> client_size = spec.GetSize("client_size", 256 << 20);
  for (const absl::Status& s : {grain.status(), chunk.status(), limit.status(), spare.status(),
                                precommit.status(), client_size.status()}) {
    if (!s.ok()) return s;
  }
  options.grain_size = *grain;
  options.chunk_size = *chunk;
  options.spare = *spare;
  options.precommit = *precommit;
  if (*limit != 0) options.commit_limit = *limit;
  const std::string kind = spec.args.count("arena") ? spec.args.at("arena") : "vm";
  core::Res res;
  if (kind == "vm") {
    res = core::Arena::CreateVirtual(options, &out->arena);
  } else if (kind == "client") {
    out->buffer.reset(new (std::nothrow) char[*client_size]);
    if (out->buffer == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "policy '", spec.text, "': no memory for a client arena of ", *client_size, " bytes"));
    }
    res = core::Arena::CreateClient(out->buffer.get(), *client_size, options, &out->arena);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("policy '", spec.text, "': arena=", kind, ": expected vm or client"));
  }
  if (res != core::Res::kOk) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy '", spec.text, "': cannot create the arena: ", core::ResMessage(res)));
  }
  out->observer = FootprintObserver(out->arena->stats().committed);
  out->arena->set_observer(&out->observer);
  return absl::OkStatus();
}

}  // namespace replay
