// Writes what the current OpenGL framebuffer shows to a PNG.
#ifndef VIZ_APP_SCREENSHOT_H_
#define VIZ_APP_SCREENSHOT_H_

#include <string>

#include "absl/status/status.h"

namespace viz {

absl::Status SaveScreenshot(const std::string& path, int width, int height);

}  // namespace viz

#endif  // VIZ_APP_SCREENSHOT_H_
