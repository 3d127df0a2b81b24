#pragma once
// The job panel: the running job's title, stage, progress bar, estimated time left and a Cancel
// button, above a log of finished jobs (outcome, duration, summary). Follows a JobController.
#include <QElapsedTimer>
#include <QWidget>

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTimer;

namespace mq::ui {

class JobController;

class JobPanel : public QWidget {
    Q_OBJECT
public:
    explicit JobPanel(JobController* jobs, QWidget* parent = nullptr);

    QProgressBar* progressBar() const { return m_bar; }
    QPushButton* cancelButton() const { return m_cancel; }
    QLabel* stageLabel() const { return m_stage; }
    QLabel* etaLabel() const { return m_eta; }
    QListWidget* log() const { return m_log; }

private:
    void onStarted(const QString& title);
    void onProgress(const QString& stage, double fraction, const QString& message, double eta);
    void addLog(const QString& text, const QString& icon);
    void setIdle();
    void tick(); // once a second while a job runs: the elapsed time while no estimate exists

    JobController* m_jobs;
    QLabel* m_title = nullptr;
    QLabel* m_stage = nullptr;
    QLabel* m_eta = nullptr;
    QProgressBar* m_bar = nullptr;
    QPushButton* m_cancel = nullptr;
    QListWidget* m_log = nullptr;
    QTimer* m_tick = nullptr;
    QElapsedTimer m_clock;       // since the job started
    QString m_currentStage;      // the stage the log has a line for
    bool m_haveEta = false;
};

} // namespace mq::ui
