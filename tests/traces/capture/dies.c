// Allocates ten blocks of 5001 bytes and keeps them, then leaves by the
// way argv[1] names: "term" (SIGTERM to itself), "abort", "_exit" (_exit(3)).
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  static void* keep[10];
  for (int i = 0; i < 10; ++i) keep[i] = malloc(5001);
  if (argc < 2) return 1;
  if (strcmp(argv[1], "term") == 0) kill(getpid(), SIGTERM);
  if (strcmp(argv[1], "abort") == 0) abort();
  if (strcmp(argv[1], "_exit") == 0) _exit(3);
  return keep[0] == NULL;
}
