// Two producers hand blocks of 6000..6049 bytes to two consumers through
// small rings. Producers realloc some blocks before handing them over and
// consumers realloc some after (a realloc of another thread's block), then
// free them, so the allocator gives freed addresses back to other threads
// all the time. Prints the numbers of allocs, reallocs and frees it made.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { kPairs = 2, kBlocks = 20000, kRing = 64 };

struct Ring {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  void* slots[kRing];
  int head, count;
};
static struct Ring rings[kPairs];
static long reallocs[2 * kPairs];

static void Push(struct Ring* r, void* p) {
  pthread_mutex_lock(&r->lock);
  while (r->count == kRing) pthread_cond_wait(&r->changed, &r->lock);
  r->slots[(r->head + r->count++) % kRing] = p;
  pthread_cond_broadcast(&r->changed);
  pthread_mutex_unlock(&r->lock);
}

static void* Pop(struct Ring* r) {
  pthread_mutex_lock(&r->lock);
  while (r->count == 0) pthread_cond_wait(&r->changed, &r->lock);
  void* p = r->slots[r->head];
  r->head = (r->head + 1) % kRing;
  --r->count;
  pthread_cond_broadcast(&r->changed);
  pthread_mutex_unlock(&r->lock);
  return p;
}

static void* Produce(void* arg) {
  const int i = (int)(intptr_t)arg;
  for (int n = 0; n < kBlocks; ++n) {
    char* p = malloc(6000 + n % 50);
    if (p == NULL) abort();
    p[0] = (char)n;
    if (n % 3 == 0) {
      p = realloc(p, 6100 + n % 50);
      ++reallocs[i];
    }
    Push(&rings[i], p);
  }
  return NULL;
}

static void* Consume(void* arg) {
  const int i = (int)(intptr_t)arg;
  for (int n = 0; n < kBlocks; ++n) {
    char* p = Pop(&rings[i]);
    if (n % 4 == 0) {
      p = realloc(p, n % 8 == 0 ? 6200 + n % 50 : 64);  // Grow, or shrink in place.
      ++reallocs[kPairs + i];
    }
    free(p);
  }
  return NULL;
}

int main(void) {
  pthread_t threads[2 * kPairs];
  for (int i = 0; i < kPairs; ++i) {
    pthread_mutex_init(&rings[i].lock, NULL);
    pthread_cond_init(&rings[i].changed, NULL);
  }
  for (int i = 0; i < kPairs; ++i) {
    if (pthread_create(&threads[i], NULL, Produce, (void*)(intptr_t)i) != 0) return 1;
    if (pthread_create(&threads[kPairs + i], NULL, Consume, (void*)(intptr_t)i) != 0) return 1;
  }
  long total_reallocs = 0;
  for (int i = 0; i < 2 * kPairs; ++i) {
    pthread_join(threads[i], NULL);
    total_reallocs += reallocs[i];
  }
  printf("%d %ld %d\n", kPairs * kBlocks, total_reallocs, kPairs * kBlocks);
  return 0;
}
