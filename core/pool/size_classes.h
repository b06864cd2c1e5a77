// The default size classes of the segregated policies (the replay's
// mfs-classes and node-slice-classes, and MVFF's segregated allocation
// cache): 16 bytes to 2 KiB in steps of about 1.5, so a block is rounded up
// by at most half, and 16-byte aligned as malloc's are.
#ifndef CORE_POOL_SIZE_CLASSES_H_
#define CORE_POOL_SIZE_CLASSES_H_

#include <array>
#include <cstddef>

namespace core {

inline constexpr std::array<std::size_t, 14> kDefaultSizeClasses = {
    16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048};

}  // namespace core

#endif  // CORE_POOL_SIZE_CLASSES_H_
