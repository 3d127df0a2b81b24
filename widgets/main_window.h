#pragma once
// The workbench's main window: menus, status bar and the place the views will dock into.
#include <QMainWindow>

class QLabel;

namespace mq::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    // Opens a `.mqs` session and shows its summary; returns false (and says why in a dialog
    // unless quiet) when the file cannot be read.
    bool openSession(const QString& path, bool quiet = false);

private:
    void openSessionDialog();
    void showAbout();

    QLabel* m_summary = nullptr;
};

} // namespace mq::ui
