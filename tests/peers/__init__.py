"""The test lab: real, independently written peers in network namespaces.

`lab.Lab` starts them all; the other modules each drive one peer or client.
"""
