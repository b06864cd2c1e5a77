// The body of the trace-reader fuzzer, shared by the libFuzzer binary
// (trace_reader_fuzzer.cc) and the mutation test that runs in the normal
// suite (trace_reader_mutation_test.cc).
#ifndef TESTS_REPLAY_FUZZ_TRACE_READER_FUZZ_H_
#define TESTS_REPLAY_FUZZ_TRACE_READER_FUZZ_H_

#include <cstddef>
#include <cstdint>

namespace replay_fuzz {

// Reads `data` as a trace to the end or the first error. Aborts if the
// reader misbehaves: an error without the file name, of an unexpected code,
// or a batch that breaks the event invariants. Returns the number of events
// read if the whole trace was valid, or -1 on a (clean) error.
long ReadTraceForFuzzing(const std::uint8_t* data, std::size_t size);

}  // namespace replay_fuzz

#endif  // TESTS_REPLAY_FUZZ_TRACE_READER_FUZZ_H_
