// Four threads each allocate 1000 blocks of 2000 + thread bytes; every
// block is then freed by the next thread, so frees cross threads.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

enum { kThreads = 4, kBlocks = 1000 };
static void* blocks[kThreads][kBlocks];
static pthread_barrier_t barrier;

static void* Work(void* arg) {
  const int t = (int)(intptr_t)arg;
  for (int i = 0; i < kBlocks; ++i) blocks[t][i] = malloc(2000 + t);
  pthread_barrier_wait(&barrier);
  const int victim = (t + 1) % kThreads;
  for (int i = 0; i < kBlocks; ++i) free(blocks[victim][i]);
  return NULL;
}

int main(void) {
  pthread_t threads[kThreads];
  pthread_barrier_init(&barrier, NULL, kThreads);
  for (int t = 0; t < kThreads; ++t) {
    if (pthread_create(&threads[t], NULL, Work, (void*)(intptr_t)t) != 0) return 1;
  }
  for (int t = 0; t < kThreads; ++t) pthread_join(threads[t], NULL);
  return 0;
}
