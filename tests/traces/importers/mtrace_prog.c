// A fixed sequence of allocations under glibc's mtrace(): the capture test
// imports its MALLOC_TRACE log and checks the exact events
// (mtrace_capture_test.sh). Each line's comment is the event it becomes.
#include <mcheck.h>
#include <stdlib.h>

// Volatile, so that no optimiser removes an allocation it can see through.
static void* volatile keep;

int main(void) {
  mtrace();
  char* a = malloc(100);   // alloc 1 100
  char* b = calloc(4, 8);  // alloc 2 32
  keep = b;
  a = realloc(a, 4000);         // realloc 1 3 4000 (b is in the way: it moves)
  a = realloc(a, 1000);         // realloc 3 3 1000 (shrinks in place)
  char* c = realloc(NULL, 50);  // alloc 4 50
  keep = c;
  free(b);         // free 2
  b = malloc(32);  // alloc 5 32 (b's old address again: a new id)
  keep = b;
  void* d = NULL;
  if (posix_memalign(&d, 64, 256) != 0) return 1;  // alloc 6 256
  free(a);                                         // free 3
  free(b);                                         // free 5
  free(c);                                         // free 4
  free(d);                                         // free 6
  keep = NULL;
  free(keep);  // free(NULL): nothing
  muntrace();
  return 0;
}
