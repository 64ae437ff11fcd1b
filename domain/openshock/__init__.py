"""OpenShock: hubs, shockers, control, user shares and share links, decided as events.

The api layer sends the commands of `domain.openshock.commands` through the bus
(`HANDLERS` in `domain.openshock.handlers`) and maps refusals by their `code`
(`domain.openshock.errors`); gateways deliver `ShockerCommand.Sent`.
"""
