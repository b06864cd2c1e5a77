// Calls every function librecord.so records, once each, with sizes the test
// recognises (1001..1010), so its trace can be checked exactly.
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>

int main(void) {
  void* a = malloc(1001);
  void* b = calloc(3, 1002);
  void* c = realloc(NULL, 1003);
  c = realloc(c, 1004);
  void* d = reallocarray(NULL, 5, 1005);
  d = reallocarray(d, 6, 1005);
  void* e = memalign(64, 1006);
  void* f = NULL;
  if (posix_memalign(&f, 128, 1007) != 0) return 1;
  void* g = aligned_alloc(256, 1008);
  void* h = valloc(1009);
  void* i = pvalloc(1010);
  if (malloc_usable_size(a) < 1001) return 1;
  if (realloc(h, 0) != NULL) return 1;  // glibc: frees h.
  free(a);
  free(b);
  free(c);
  free(d);
  free(e);
  free(f);
  free(g);
  free(i);
  return 0;
}
