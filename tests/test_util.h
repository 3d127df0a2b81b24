#pragma once
// Helpers shared by the test suites.
#include <QString>
#include <QTemporaryDir>

#include <string>

namespace mq::test {

inline std::string sharedDir() { return MQ_SHARED_DIR; }
inline std::string storiesDir() { return std::string(MQ_SHARED_DIR) + "/models/stories260K"; }
inline std::string binDir() { return MQ_BIN_DIR; }

} // namespace mq::test
