#pragma once
// Export of the session's quantized model: what the engine can write (today the
// morphoquant-sim folder, reloadable by this engine and by `morphoquant-cli eval`), where, and
// whether an existing folder may be replaced; the export runs as a job (progress and Cancel in
// the dialog too) and ends with a summary of what was written and the session's figures.
#include <QDialog>

#include <functional>
#include <memory>

#include "engine.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace mq::ui {

class JobController;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // Starts the export job; returns false when it could not start (another job runs).
    using Starter = std::function<bool(const QString& dir, bool overwrite, std::shared_ptr<core::ExportReport> report)>;

    ExportDialog(const core::Session& session, JobController* jobs, Starter starter, QWidget* parent = nullptr);

    QLineEdit* folderEdit() const { return m_folder; }
    QCheckBox* overwriteBox() const { return m_overwrite; }
    QPushButton* exportButton() const { return m_export; }
    QLabel* summaryLabel() const { return m_summary; }
    QProgressBar* progressBar() const { return m_bar; }
    // The report of the last finished export (nullptr before).
    const core::ExportReport* report() const { return m_done ? m_report.get() : nullptr; }

    // Starts the export with the values in the controls (the Export button).
    void startExport();

private:
    void browse();
    void updateButtons();

    const core::Session& m_session;
    JobController* m_jobs;
    Starter m_starter;
    std::shared_ptr<core::ExportReport> m_report;
    bool m_done = false;
    bool m_running = false;
    QComboBox* m_format = nullptr;
    QLineEdit* m_folder = nullptr;
    QCheckBox* m_overwrite = nullptr;
    QProgressBar* m_bar = nullptr;
    QLabel* m_summary = nullptr;
    QPushButton* m_export = nullptr;
    QPushButton* m_cancel = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};

} // namespace mq::ui
