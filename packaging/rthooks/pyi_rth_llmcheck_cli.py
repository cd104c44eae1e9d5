"""Runtime hook of the console ``llmcheck`` executable only, in place of ``pyi_rth_pyside6``.

PyInstaller's PySide6 hook imports ``PySide6.QtCore`` (and with it ICU, 35 MB of libraries) at
every start, to write an embedded qt.conf. ``llmcheck --json`` never needs Qt, and its isolated
GPU probe starts the executable a second time, so the console executable sets only the plugin
path here, which is all Qt needs when ``llmcheck`` without arguments opens the window.
"""

import os
import sys

os.environ["QT_PLUGIN_PATH"] = os.path.join(sys._MEIPASS, "PySide6", "Qt", "plugins")
