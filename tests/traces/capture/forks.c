// The parent allocates 3001 bytes and forks; the child allocates 3002,
// frees both (one inherited) and exits 7; the parent frees its block and
// exits with the child's status.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  void* inherited = malloc(3001);
  const pid_t pid = fork();
  if (pid == 0) {
    void* own = malloc(3002);
    free(own);
    free(inherited);
    exit(7);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  free(inherited);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
