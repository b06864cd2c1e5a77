#include "viz/app/screenshot.h"

#include <GL/gl.h>
#include <stb/stb_image_write.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace viz {

absl::Status SaveScreenshot(const std::string& path, int width, int height) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  if (glGetError() != GL_NO_ERROR) return absl::InternalError("glReadPixels failed");
  // OpenGL's rows run bottom to top; PNG's top to bottom.
  const std::size_t row = static_cast<std::size_t>(width) * 4;
  for (int y = 0; y < height / 2; ++y) {
    std::swap_ranges(pixels.begin() + y * row, pixels.begin() + (y + 1) * row,
                     pixels.begin() + (height - 1 - y) * row);
  }
  if (stbi_write_png(path.c_str(), width, height, 4, pixels.data(), static_cast<int>(row)) == 0) {
    return absl::InternalError(absl::StrCat(path, ": cannot write the PNG"));
  }
  return absl::OkStatus();
}

}  // namespace viz
