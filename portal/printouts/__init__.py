"""Printed papers of the assisted channel: the consent form a visitor signs at a CUPS centre and the
receipt of an application.  PDFs made with fpdf2 and Debian's DejaVu fonts, like the decision letter
(:mod:`portal.decisions.letter`), in the reader's language.
"""
