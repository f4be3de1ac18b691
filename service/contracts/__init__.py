"""Wire formats: HTTP bodies and messages, as msgspec Structs.

New fields always get defaults so that older producers stay valid.
"""
