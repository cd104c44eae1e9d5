"""What people read: units, verdict words, sentences, the text report and the Markdown export.

Qt-free and pure (documents and dataclasses in, strings out), shared by the CLI, the window and
the export, so one number is written one way everywhere. Only ``llmcheck.cli`` prints and only
``llmcheck.gui`` draws; both take their words from here.
"""
