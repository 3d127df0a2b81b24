#pragma once
// Errors raised by the engine. Every message names the file, the tensor or module and what
// was expected, so a person can act on it. Thrown inside core, caught at the job boundary.
#include <stdexcept>
#include <string>

namespace mq::core {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// Bad input: a file, tensor or value that is not what the engine expects.
class InputError : public Error {
public:
    using Error::Error;
};

// A NaN or Inf among a Linear's inputs during calibration (the model's weights or the data).
class NonFiniteInput : public InputError {
public:
    using InputError::InputError;
};

// The user asked to stop; state is left as it was before the job.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

// "file: tensor: what" with empty parts left out.
std::string describe(const std::string& file, const std::string& tensor, const std::string& what);

} // namespace mq::core
