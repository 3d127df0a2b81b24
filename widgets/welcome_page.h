#pragma once
// The workbench without a session: what to open (the bundled example, a session, a model
// folder, a recent session) and the four steps of a study (calibrate, quantize, evaluate,
// export), instead of empty plots. It lies over the docks until a session is open.
#include <QFrame>
#include <QStringList>

class QListWidget;
class QPushButton;

namespace mq::ui {

class WelcomePage : public QFrame {
    Q_OBJECT
public:
    explicit WelcomePage(QWidget* parent = nullptr);
    // The recent sessions, newest first (paths); an empty list hides the list.
    void setRecentFiles(const QStringList& paths);
    // Whether the bundled example session exists (its button is disabled otherwise).
    void setExampleAvailable(bool available);

    QListWidget* recentList() const { return m_recent; }
    QPushButton* exampleButton() const { return m_example; }

signals:
    void openExampleRequested();
    void openSessionRequested();
    void openModelRequested();
    void openRecentRequested(const QString& path);
    void guideRequested();

private:
    QListWidget* m_recent = nullptr;
    QWidget* m_recentBox = nullptr;
    QPushButton* m_example = nullptr;
};

} // namespace mq::ui
