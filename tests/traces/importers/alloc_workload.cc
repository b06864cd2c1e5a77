// A small deterministic allocation workload for heaptrack captures
// (heaptrack_capture_test.sh): malloc, calloc, realloc that grows and
// shrinks, operator new, standard containers, and a second thread.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

// Volatile, so that no optimiser removes an allocation it can see through.
void* volatile keep;

void Churn(std::uint64_t seed, int rounds) {
  std::vector<void*> blocks(64, nullptr);
  for (int i = 0; i < rounds; ++i) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    const std::size_t slot = (seed >> 33) % blocks.size();
    const std::size_t size = 1 + (seed >> 40) % 3000;
    switch ((seed >> 20) % 4) {
      case 0:
        std::free(blocks[slot]);
        blocks[slot] = std::malloc(size);
        break;
      case 1:
        std::free(blocks[slot]);
        blocks[slot] = std::calloc(1, size);
        break;
      default:
        blocks[slot] = std::realloc(blocks[slot], size);
        break;
    }
    keep = blocks[slot];
  }
  for (void* p : blocks) std::free(p);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 2000;
  std::thread worker(Churn, 7, rounds);
  Churn(1, rounds);
  std::map<int, std::string> names;
  for (int i = 0; i < rounds / 10; ++i)
    names[i] = std::string(static_cast<std::size_t>(i % 97), 'x');
  auto* big = new std::vector<int>(100000, 1);
  keep = big;
  delete big;
  worker.join();
  return names.size() == static_cast<std::size_t>(rounds / 10) ? 0 : 1;
}
