// A realloc that stays in place (shrinking) and one that moves (growing a
// block boxed in by another); prints "same" or "moved" for each, in order.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void Say(const void* old, const void* now) {
  const char* word = old == now ? "same\n" : "moved\n";
  if (write(1, word, strlen(word)) < 0) exit(1);
}

int main(void) {
  char* p = malloc(4001);
  char* old = p;
  p = realloc(p, 4002 - 2000);  // Shrinking: glibc keeps the block.
  Say(old, p);
  char* q = malloc(4003);
  char* fence = malloc(4004);  // Keeps q from growing in place.
  old = q;
  q = realloc(q, 4005 * 16);
  Say(old, q);
  free(p);
  free(q);
  free(fence);
  return 0;
}
