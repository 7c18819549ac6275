"""The care room: borrower profiles (topics, personalisation), consents, care campaigns with their
exclusions and revisits (回访) (docs/CARE.md).

The contact channel and window a borrower chose live on the ledger's borrower row, so that
collections reads them too; the care room writes them through the ledger.
"""
