// Prints the colour of pixels of a PNG, for the visualizer's screenshot
// tests: png_probe FILE X Y [X Y]... prints "R G B" per point.
#include <stb/stb_image.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 4 || argc % 2 != 0) {
    std::fprintf(stderr, "usage: png_probe FILE X Y [X Y]...\n");
    return 2;
  }
  int w, h, n;
  unsigned char* pixels = stbi_load(argv[1], &w, &h, &n, 3);
  if (pixels == nullptr) {
    std::fprintf(stderr, "png_probe: cannot read %s: %s\n", argv[1], stbi_failure_reason());
    return 1;
  }
  int status = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const int x = std::atoi(argv[i]), y = std::atoi(argv[i + 1]);
    if (x < 0 || y < 0 || x >= w || y >= h) {
      std::fprintf(stderr, "png_probe: %d,%d is outside the %dx%d image\n", x, y, w, h);
      status = 1;
      continue;
    }
    const unsigned char* p = pixels + (static_cast<std::size_t>(y) * w + x) * 3;
    std::printf("%d %d %d\n", p[0], p[1], p[2]);
  }
  stbi_image_free(pixels);
  return status;
}
