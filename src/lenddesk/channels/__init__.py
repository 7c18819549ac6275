"""The channels room: protocol adapters that deliver outbound messages. No business rules here."""
