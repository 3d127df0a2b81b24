#pragma once
// The shape names make-synthetic writes (model/synthetic.h), without libtorch: the CLI's
// launcher checks --shape with it.
#include <string>
#include <vector>

namespace mq::core {

std::vector<std::string> syntheticShapes();

} // namespace mq::core
