#pragma once
// Writes a file so that readers see either the old content or the complete new content:
// data goes to "<target>.tmp-<pid>-<n>" in the same folder, is fsync'ed, then renamed over the
// target and the folder is fsync'ed. A writer destroyed without commit() removes its temp file.
// Not thread-safe; one writer per target.
#include <cstdio>
#include <functional>
#include <string>

namespace mq::core {

class AtomicFileWriter {
public:
    explicit AtomicFileWriter(const std::string& targetPath);
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    const std::string& tempPath() const { return m_tempPath; }
    const std::string& targetPath() const { return m_targetPath; }

    // Appends bytes; throws Error naming the target on a short write (disk full, ...). On
    // Linux, each further kWriteBehindBytes start their writeback to disk at once
    // (sync_file_range), so that the disk works while the caller computes the next bytes and
    // commit's fsync has little left to wait for (an export of a 7B layer writes ~1 GB).
    void write(const void* data, size_t bytes);
    static constexpr uint64_t kWriteBehindBytes = uint64_t(64) << 20;
    // Flushes, fsyncs, closes, renames over the target. Throws on failure (temp removed).
    void commit();
    // For writers (HDF5) that produce the temp file themselves: close our handle first.
    void closeHandle();

private:
    std::string m_targetPath;
    std::string m_tempPath;
    std::FILE* m_file = nullptr;
    bool m_committed = false;
    uint64_t m_written = 0; // bytes written so far
    uint64_t m_kicked = 0;  // bytes whose writeback was started
};

// Fsyncs a finished temp file, renames it over target and fsyncs the folder.
void commitTempFile(const std::string& tempPath, const std::string& targetPath);

// Writes a whole text file atomically.
void writeFileAtomic(const std::string& path, const std::string& content);

std::string readTextFile(const std::string& path);

} // namespace mq::core

namespace mq::core {

// Writes a whole folder so that it appears complete or not at all: files go into a temporary
// sibling folder, which replaces the target by rename once fill() returns. An existing,
// non-empty target is an InputError unless overwrite is set (then the old folder is removed only
// after the new one is in place). On any exception the temporary folder is removed and the
// target is untouched. Returns the absolute target path.
// checkFolderTarget makes the same checks up front (before expensive work) and returns it too.
std::string checkFolderTarget(const std::string& target, bool overwrite);
// Removes what killed writers left beside target ("<target>.tmp-PID..." and
// "<target>.old-PID" of a process that no longer runs); returns how many. writeFolderAtomic and
// the session writer call it before writing.
int removeStaleTemporaries(const std::string& target);
std::string writeFolderAtomic(const std::string& target, bool overwrite,
                              const std::function<void(const std::string& tempDir)>& fill);

} // namespace mq::core
