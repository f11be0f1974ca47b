"""The request services the API calls: computePixels and its siblings, value and feature
pages, exports and their destinations, the operations store and the tile cache. They take typed
requests (services/requests.py) built by the API and never read the wire form."""
