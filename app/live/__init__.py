"""The live state: the tickets on the board kept true while files change and the clock runs.

`state.LiveState` owns it all and runs the background tasks; `board.Board` keeps every row in
display order with the SLA clock's next crossings; `folder.TicketFolder` reads tickets/;
`watch` turns watchfiles' events into batches of changed paths."""
