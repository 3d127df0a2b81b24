#include "io/safetensors.h"

#include "common/error.h"
#include "io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mq::core {

namespace {

using nlohmann::json;

constexpr DType kAllDTypes[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64,
                                DType::I32, DType::I16, DType::I8,   DType::U8,  DType::BOOL, DType::F8_E4M3};

std::string dtypeList()
{
    std::string out;
    for (DType t : kAllDTypes) {
        if (!out.empty())
            out += ", ";
        out += dtypeName(t);
    }
    return out;
}

std::string shapeText(const std::vector<int64_t>& shape)
{
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

std::string rangeText(uint64_t begin, uint64_t end)
{
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

bool isFloating(DType t)
{
    return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64;
}

// Byte size of shape x dtype; false when it does not fit in 64 bits (a hostile header).
bool byteSize(const std::vector<int64_t>& shape, DType t, uint64_t* out)
{
    uint64_t n = dtypeSize(t);
    for (int64_t d : shape) {
        if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
            return false;
    }
    *out = n;
    return true;
}

TensorInfo parseEntry(const std::string& file, const std::string& name, const json& e,
                      uint64_t dataSize)
{
    auto fail = [&](const std::string& what) { return InputError(describe(file, name, what)); };
    if (!e.is_object())
        throw fail("header entry is " + std::string(e.type_name())
                   + ", expected an object with dtype, shape and data_offsets");

    TensorInfo info;
    info.name = name;

    auto dt = e.find("dtype");
    if (dt == e.end())
        throw fail("missing \"dtype\" (expected one of " + dtypeList() + ")");
    if (!dt->is_string() || !parseDType(dt->get<std::string>(), &info.dtype))
        throw fail("unknown dtype " + dt->dump() + " (expected one of " + dtypeList() + ")");

    auto sh = e.find("shape");
    if (sh == e.end())
        throw fail("missing \"shape\" (expected an array of non-negative integers)");
    if (!sh->is_array())
        throw fail("\"shape\" is " + sh->dump() + ", expected an array of non-negative integers");
    for (const json& d : *sh) {
        if (!d.is_number_integer())
            throw fail("\"shape\" " + sh->dump() + " holds " + d.dump()
                       + ", expected non-negative integers");
        if (d.is_number_unsigned()) {
            if (d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
                throw fail("dimension " + d.dump() + " in \"shape\" is too large");
        } else if (d.get<int64_t>() < 0) {
            throw fail("negative dimension " + d.dump() + " in \"shape\" " + sh->dump()
                       + ", expected non-negative integers");
        }
        info.shape.push_back(d.get<int64_t>());
    }

    auto off = e.find("data_offsets");
    if (off == e.end())
        throw fail("missing \"data_offsets\" (expected [begin, end])");
    if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned()
        || !(*off)[1].is_number_unsigned() || (*off)[0].get<uint64_t>() > (*off)[1].get<uint64_t>())
        throw fail("\"data_offsets\" is " + off->dump()
                   + ", expected two ascending non-negative integers [begin, end]");
    info.begin = (*off)[0].get<uint64_t>();
    info.end = (*off)[1].get<uint64_t>();
    if (info.end > dataSize)
        throw fail("\"data_offsets\" " + rangeText(info.begin, info.end)
                   + " run past the end of the data section (" + std::to_string(dataSize)
                   + " bytes)");

    uint64_t expected = 0;
    const bool fits = byteSize(info.shape, info.dtype, &expected);
    if (!fits || expected != info.end - info.begin)
        throw fail("shape " + shapeText(info.shape) + " x " + dtypeName(info.dtype) + " ("
                   + std::to_string(dtypeSize(info.dtype)) + " bytes each) needs "
                   + (fits ? std::to_string(expected) : std::string("more than 2^64"))
                   + " bytes, but \"data_offsets\" " + rangeText(info.begin, info.end) + " cover "
                   + std::to_string(info.end - info.begin));
    return info;
}

void parseMetadata(const std::string& file, const json& m, std::map<std::string, std::string>* out)
{
    if (!m.is_object())
        throw InputError(describe(file, "", "\"__metadata__\" is " + std::string(m.type_name())
                                                + ", expected an object of string values"));
    for (auto it = m.begin(); it != m.end(); ++it) {
        if (!it->is_string())
            throw InputError(describe(file, "", "\"__metadata__\" key \"" + it.key() + "\" is "
                                                    + it->dump() + ", expected a string"));
        (*out)[it.key()] = it->get<std::string>();
    }
}

// Rejects two tensors that claim the same bytes (a writer bug that would silently alias them),
// and a data section the tensors do not cover exactly, from byte 0 to its end without a gap: a
// header length a few bytes off still parses (the JSON padding absorbs it) but shifts every
// tensor, and a truncated or padded file leaves bytes no tensor owns. Both would read wrong
// numbers silently; the reference implementation refuses them too.
void checkLayout(const std::string& file, const std::map<std::string, TensorInfo>& tensors, uint64_t dataSize)
{
    std::vector<const TensorInfo*> byBegin;
    for (const auto& [name, info] : tensors) {
        if (info.end > info.begin) // empty tensors own no bytes
            byBegin.push_back(&info);
    }
    std::sort(byBegin.begin(), byBegin.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->name < b->name;
    });
    const TensorInfo* reach = nullptr; // the tensor reaching furthest so far
    for (const TensorInfo* t : byBegin) {
        if (reach && t->begin < reach->end)
            throw InputError(describe(file, t->name, "\"data_offsets\" " + rangeText(t->begin, t->end)
                                                         + " overlap those of tensor '" + reach->name
                                                         + "' " + rangeText(reach->begin, reach->end)));
        const uint64_t expected = reach ? reach->end : 0;
        if (t->begin != expected)
            throw InputError(describe(file, t->name,
                                      "\"data_offsets\" " + rangeText(t->begin, t->end) + " leave bytes "
                                          + rangeText(expected, t->begin)
                                          + " of the data section to no tensor; expected it to start at "
                                          + std::to_string(expected)
                                          + " (a wrong header length or a damaged header shifts every tensor)"));
        if (!reach || t->end > reach->end)
            reach = t;
    }
    const uint64_t end = reach ? reach->end : 0;
    if (end != dataSize)
        throw InputError(describe(file, reach ? reach->name : "",
                                  "the tensors end at byte " + std::to_string(end) + " of the data section, which holds "
                                      + std::to_string(dataSize)
                                      + " bytes: the header length or the file size is wrong (a truncated, padded "
                                        "or damaged file); nothing was read"));
}

// Tensors as they will be stored: sorted by name (std::map), contiguous CPU, with offsets.
struct Layout {
    std::string header; // length prefix + JSON padded to a multiple of 8
    std::vector<std::pair<std::string, at::Tensor>> tensors;
};

Layout buildLayout(const std::map<std::string, at::Tensor>& tensors,
                   const std::map<std::string, std::string>& metadata)
{
    Layout out;
    json header = json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        if (name == "__metadata__")
            throw Error(describe("", name, "this name is reserved by the safetensors format"));
        if (!t.defined())
            throw Error(describe("", name, "cannot store an undefined tensor"));
        const DType dt = fromScalarType(t.scalar_type());
        at::Tensor c = t.cpu().contiguous();
        const uint64_t bytes = uint64_t(c.numel()) * dtypeSize(dt);
        header[name] = {{"dtype", dtypeName(dt)},
                        {"shape", c.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        out.tensors.emplace_back(name, std::move(c));
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception& e) { // names or metadata that are not valid UTF-8
        throw Error(std::string("cannot encode the safetensors header: ") + e.what());
    }
    // Readers may map the data section; keeping it 8-byte aligned keeps every dtype aligned.
    text.append((8 - text.size() % 8) % 8, ' ');
    const uint64_t len = text.size();
    for (int i = 0; i < 8; ++i)
        out.header.push_back(char((len >> (8 * i)) & 0xff));
    out.header += text;
    return out;
}

size_t tensorBytes(const at::Tensor& t) { return size_t(t.numel()) * t.element_size(); }

} // namespace

const char* dtypeName(DType t)
{
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
    case DType::F8_E4M3: return "F8_E4M3";
    }
    return "?";
}

size_t dtypeSize(DType t)
{
    switch (t) {
    case DType::F64:
    case DType::I64:
        return 8;
    case DType::F32:
    case DType::I32:
        return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
        return 2;
    case DType::I8:
    case DType::U8:
    case DType::BOOL:
    case DType::F8_E4M3:
        return 1;
    }
    return 0;
}

bool parseDType(const std::string& s, DType* out)
{
    for (DType t : kAllDTypes) {
        if (s == dtypeName(t)) {
            *out = t;
            return true;
        }
    }
    return false;
}

at::ScalarType toScalarType(DType t)
{
    switch (t) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::F64: return at::kDouble;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I16: return at::kShort;
    case DType::I8: return at::kChar;
    case DType::U8: return at::kByte;
    case DType::BOOL: return at::kBool;
    case DType::F8_E4M3: return at::kByte; // raw bytes (see safetensors.h)
    }
    return at::kFloat;
}

DType fromScalarType(at::ScalarType t)
{
    for (DType d : kAllDTypes) {
        if (toScalarType(d) == t)
            return d;
    }
    throw Error(std::string("safetensors cannot store tensors of type ") + c10::toString(t)
                + " (supported: " + dtypeList() + ")");
}

int64_t TensorInfo::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : m_path(path)
{
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) {
        const int err = errno;
        throw InputError(describe(path, "", std::string("cannot open safetensors file: ")
                                                + std::strerror(err)));
    }
    // The constructor may throw below, and then no destructor runs: release by hand.
    auto release = [this] {
        if (m_map)
            ::munmap(const_cast<uint8_t*>(m_map), m_size);
        m_map = nullptr;
        ::close(m_fd);
        m_fd = -1;
    };
    try {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            const int err = errno;
            throw InputError(describe(path, "", std::string("cannot stat: ") + std::strerror(err)));
        }
        if (!S_ISREG(st.st_mode))
            throw InputError(describe(path, "", "not a regular file"));
        m_size = size_t(st.st_size);
        if (m_size < 8)
            throw InputError(describe(path, "", "file is " + std::to_string(m_size)
                                                    + " bytes, shorter than the 8-byte header length"
                                                      " that starts a safetensors file"));
        void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, m_fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            throw InputError(describe(path, "", std::string("cannot mmap: ") + std::strerror(err)));
        }
        m_map = static_cast<const uint8_t*>(p);

        uint64_t headerLen = 0;
        for (int i = 0; i < 8; ++i)
            headerLen |= uint64_t(m_map[i]) << (8 * i);
        if (headerLen > m_size - 8)
            throw InputError(describe(path, "", "header length " + std::to_string(headerLen)
                                                    + " runs past the end of the file ("
                                                    + std::to_string(m_size) + " bytes)"));
        m_dataOffset = 8 + size_t(headerLen);
        const uint64_t dataSize = m_size - m_dataOffset;

        json header;
        try {
            header = json::parse(m_map + 8, m_map + m_dataOffset);
        } catch (const json::exception& e) {
            throw InputError(describe(path, "", std::string("header is not valid JSON: ") + e.what()));
        }
        if (!header.is_object())
            throw InputError(describe(path, "", "header is " + std::string(header.type_name())
                                                    + ", expected a JSON object"));
        for (auto it = header.begin(); it != header.end(); ++it) {
            if (it.key() == "__metadata__")
                parseMetadata(path, it.value(), &m_metadata);
            else
                m_tensors.emplace(it.key(), parseEntry(path, it.key(), it.value(), dataSize));
        }
        checkLayout(path, m_tensors, dataSize);
    } catch (...) {
        release();
        throw;
    }
}

SafetensorsFile::~SafetensorsFile()
{
    if (m_map)
        ::munmap(const_cast<uint8_t*>(m_map), m_size);
    if (m_fd >= 0)
        ::close(m_fd);
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const
{
    auto it = m_tensors.find(name);
    if (it == m_tensors.end())
        throw InputError(describe(m_path, name, "no such tensor in this file"));
    return it->second;
}

at::Tensor SafetensorsFile::load(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    // A copy, not a view of the map: the tensor may outlive this file object, and the mapped
    // bytes carry no alignment guarantee.
    at::Tensor t = at::empty(ti.shape, at::TensorOptions().dtype(toScalarType(ti.dtype)));
    if (ti.end > ti.begin)
        std::memcpy(t.data_ptr(), m_map + m_dataOffset + ti.begin, ti.end - ti.begin);
    return t;
}

at::Tensor SafetensorsFile::loadFloat(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    if (!isFloating(ti.dtype))
        throw InputError(describe(m_path, name, std::string("dtype is ") + dtypeName(ti.dtype)
                                                    + ", expected a floating dtype (F32, F16, BF16"
                                                      " or F64) to load as float32"));
    // One pass from the mapped bytes to a float32 copy (view() copies only misaligned bytes).
    return view(name).to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);
}

void writeSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata)
{
    Layout layout;
    try {
        layout = buildLayout(tensors, metadata);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    // Streams tensor by tensor so a large checkpoint never needs a second copy in memory.
    AtomicFileWriter w(path);
    w.write(layout.header.data(), layout.header.size());
    for (const auto& [name, t] : layout.tensors)
        w.write(t.data_ptr(), tensorBytes(t));
    w.commit();
}

at::Tensor SafetensorsFile::view(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    const uint8_t* p = m_map + m_dataOffset + ti.begin;
    if (ti.end == ti.begin || reinterpret_cast<uintptr_t>(p) % dtypeSize(ti.dtype) != 0)
        return load(name);
    return at::from_blob(const_cast<uint8_t*>(p), ti.shape, at::TensorOptions().dtype(toScalarType(ti.dtype)));
}

void SafetensorsFile::release(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    static const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
    const uintptr_t b = reinterpret_cast<uintptr_t>(m_map + m_dataOffset + ti.begin);
    const uintptr_t e = reinterpret_cast<uintptr_t>(m_map + m_dataOffset + ti.end);
    const uintptr_t first = (b + page - 1) / page * page, last = e / page * page;
    if (last > first) // a hint: failure only means the pages stay resident a while longer
        ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

uint64_t TensorSpec::bytes() const
{
    uint64_t n = 0;
    if (!byteSize(shape, dtype, &n))
        throw Error(describe("", name, "tensor too large"));
    return n;
}

std::string safetensorsHeader(const std::vector<TensorSpec>& specs, const std::map<std::string, std::string>& metadata)
{
    json header = json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const TensorSpec& s : specs) {
        if (s.name == "__metadata__")
            throw Error(describe("", s.name, "this name is reserved by the safetensors format"));
        if (header.contains(s.name))
            throw Error(describe("", s.name, "named twice"));
        const uint64_t bytes = s.bytes();
        header[s.name] = {{"dtype", dtypeName(s.dtype)}, {"shape", s.shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception& e) {
        throw Error(std::string("cannot encode the safetensors header: ") + e.what());
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out;
    const uint64_t len = text.size();
    for (int i = 0; i < 8; ++i)
        out.push_back(char((len >> (8 * i)) & 0xff));
    return out + text;
}

struct SafetensorsStreamWriter::Impl {
    std::string path;
    std::vector<TensorSpec> specs;
    AtomicFileWriter file;
    size_t next = 0;          // spec being written
    uint64_t doneInNext = 0;  // its bytes written so far
    uint64_t total = 0;
    Impl(const std::string& p, std::vector<TensorSpec> s) : path(p), specs(std::move(s)), file(p) {}
};

SafetensorsStreamWriter::SafetensorsStreamWriter(const std::string& path, std::vector<TensorSpec> specs,
                                                 const std::map<std::string, std::string>& metadata)
{
    std::string header;
    try {
        header = safetensorsHeader(specs, metadata);
    } catch (const Error& e) {
        throw Error(path + ": " + e.what());
    }
    d = std::make_unique<Impl>(path, std::move(specs));
    d->file.write(header.data(), header.size());
    d->total = header.size();
    for (const TensorSpec& s : d->specs)
        d->total += s.bytes();
}

SafetensorsStreamWriter::~SafetensorsStreamWriter() = default;

uint64_t SafetensorsStreamWriter::totalBytes() const { return d->total; }

void SafetensorsStreamWriter::writeBytes(const void* data, size_t bytes)
{
    const auto* p = static_cast<const uint8_t*>(data);
    while (bytes > 0) {
        if (d->next >= d->specs.size())
            throw Error(d->path + ": more bytes written than the header announces");
        const uint64_t left = d->specs[d->next].bytes() - d->doneInNext;
        const size_t n = size_t(std::min<uint64_t>(left, bytes));
        d->file.write(p, n);
        p += n;
        bytes -= n;
        d->doneInNext += n;
        if (d->doneInNext == d->specs[d->next].bytes()) {
            ++d->next;
            d->doneInNext = 0;
        }
    }
    // Zero-sized tensors need no bytes: step over them.
    while (d->next < d->specs.size() && d->doneInNext == 0 && d->specs[d->next].bytes() == 0)
        ++d->next;
}

void SafetensorsStreamWriter::write(const std::string& name, const at::Tensor& t)
{
    while (d->next < d->specs.size() && d->doneInNext == 0 && d->specs[d->next].bytes() == 0
           && d->specs[d->next].name != name)
        ++d->next;
    if (d->next >= d->specs.size() || d->doneInNext != 0 || d->specs[d->next].name != name)
        throw Error(describe(d->path, name, "written out of the header's order"));
    const TensorSpec& s = d->specs[d->next];
    const bool f8AsBytes = s.dtype == DType::F8_E4M3 && t.scalar_type() == at::kByte; // raw E4M3 bytes
    if ((!f8AsBytes && fromScalarType(t.scalar_type()) != s.dtype) || t.sizes() != at::IntArrayRef(s.shape))
        throw Error(describe(d->path, name, "is " + shapeText(t.sizes()) + " " + dtypeName(fromScalarType(t.scalar_type()))
                                                + ", the header announced " + shapeText(s.shape) + " " + dtypeName(s.dtype)));
    const at::Tensor c = t.cpu().contiguous();
    if (s.bytes() == 0) {
        ++d->next;
        return;
    }
    writeBytes(c.data_ptr(), size_t(s.bytes()));
}

void SafetensorsStreamWriter::commit()
{
    writeBytes(nullptr, 0);
    if (d->next != d->specs.size())
        throw Error(describe(d->path, d->specs[d->next].name, "not written; the file would be incomplete"));
    d->file.commit();
}

std::string serializeSafetensors(const std::map<std::string, at::Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata)
{
    Layout layout = buildLayout(tensors, metadata);
    size_t total = layout.header.size();
    for (const auto& [name, t] : layout.tensors)
        total += tensorBytes(t);
    std::string out;
    out.reserve(total);
    out += layout.header;
    for (const auto& [name, t] : layout.tensors)
        out.append(static_cast<const char*>(t.data_ptr()), tensorBytes(t));
    return out;
}

std::string shapeText(at::IntArrayRef shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

} // namespace mq::core
