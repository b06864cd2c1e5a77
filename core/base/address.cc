#include "core/base/address.h"

#include <ios>

namespace core {

std::ostream& operator<<(std::ostream& os, Range r) {
  std::ios_base::fmtflags flags = os.flags();
  os << "[0x" << std::hex << r.base << ", 0x" << r.limit << std::dec << ") " << r.size()
     << " bytes";
  os.flags(flags);
  return os;
}

}  // namespace core
