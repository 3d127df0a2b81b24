#pragma once
// safetensors files as LibTorch tensors: SafetensorsFile reads them from the mapped and checked
// file of SafetensorsMap (safetensors_map.h) lazily, one at a time; the writers below.
// Thread-safety: const methods may be called concurrently.
#include "io/safetensors_map.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mq::core {

at::ScalarType toScalarType(DType t);
DType fromScalarType(at::ScalarType t); // throws Error for types safetensors cannot hold

// "[3, 4]"
std::string shapeText(at::IntArrayRef shape);

// A safetensors file as LibTorch tensors (the header checks and the mapping: SafetensorsMap).
class SafetensorsFile : public SafetensorsMap {
public:
    using SafetensorsMap::SafetensorsMap;

    // A copy of the tensor in its stored dtype (CPU, contiguous).
    at::Tensor load(const std::string& name) const;
    // A copy converted to float32; only floating dtypes are accepted (throws otherwise).
    at::Tensor loadFloat(const std::string& name) const;
    // A tensor over the mapped bytes in the stored dtype, without a copy (a copy only where the
    // bytes are not aligned for the dtype). Read-only by contract; valid while this object lives.
    at::Tensor view(const std::string& name) const;
};

// Writes tensors (any order; stored sorted by name) atomically to path. CPU tensors of the
// dtypes above; non-contiguous tensors are made contiguous.
void writeSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Serialises the same bytes without touching disk (tests and shard writers use it).
std::string serializeSafetensors(const std::map<std::string, at::Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata = {});

// What a streamed writer is told up front for each tensor.
struct TensorSpec {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t bytes() const;
};

// Writes a safetensors file tensor by tensor, so that a checkpoint larger than memory can be
// written: the header (offsets in the order of `specs`) goes first, then each tensor's bytes
// in that order through write() (whole tensors) or writeBytes() (chunks). Atomic like
// writeSafetensors: nothing appears at `path` before commit(), which checks that every byte
// announced was written. Not thread-safe.
class SafetensorsStreamWriter {
public:
    SafetensorsStreamWriter(const std::string& path, std::vector<TensorSpec> specs,
                            const std::map<std::string, std::string>& metadata = {});
    ~SafetensorsStreamWriter();
    SafetensorsStreamWriter(const SafetensorsStreamWriter&) = delete;
    SafetensorsStreamWriter& operator=(const SafetensorsStreamWriter&) = delete;

    // The next tensor whole; throws Error when its name, dtype or shape is not the next spec's.
    void write(const std::string& name, const at::Tensor& t);
    // Bytes of the next tensor(s) in order; may split or span tensors.
    void writeBytes(const void* data, size_t bytes);
    void commit();
    uint64_t totalBytes() const; // header + data

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// The header bytes (length prefix + JSON padded to 8) of specs laid out in order.
std::string safetensorsHeader(const std::vector<TensorSpec>& specs, const std::map<std::string, std::string>& metadata);

} // namespace mq::core
