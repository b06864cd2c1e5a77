// A malloc-heavy workload for measuring the recorder's overhead
// (tools/record_overhead.sh): OPS random malloc/free operations over a pool
// of live blocks of 16..1024 bytes, each block written once.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  const long ops = argc > 1 ? atol(argv[1]) : 2000000;
  enum { kLive = 10000 };
  static char* live[kLive];
  uint64_t x = 88172645463325252ull, sum = 0;
  for (long i = 0; i < ops; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const size_t slot = x % kLive;
    if (live[slot] != NULL) {
      sum += (unsigned char)live[slot][0];
      free(live[slot]);
      live[slot] = NULL;
    } else {
      const size_t size = 16 + (x >> 32) % 1009;
      live[slot] = malloc(size);
      memset(live[slot], (int)(i & 0xff), size);
    }
  }
  for (int i = 0; i < kLive; ++i) free(live[i]);
  printf("%llu\n", (unsigned long long)sum);
  return 0;
}
