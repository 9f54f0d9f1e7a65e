"""Every write of fulfilment, one module per concern: FCFS allocation, the forward-move
doors (moves) and their launch embargo, the pipeline's batch path, holds, couriers (and
the webhook's authentication, the tracking-file import, the development simulator), the
festival lottery and the stock import. Import the module you need:
`from fulfillment.services import moves`."""
