package types

import (
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// ErrorAcknowledgement is a deterministic error acknowledgement: "<codespace>: code <n>: <reason>",
// with the registered code and the error text, which the keeper builds only from packets and state.
func ErrorAcknowledgement(err error) channeltypes.Acknowledgement {
	codespace, code, _ := errorsmod.ABCIInfo(err, false)
	reason := strings.ReplaceAll(err.Error(), "\n", " ")
	return channeltypes.Acknowledgement{Response: &channeltypes.Acknowledgement_Error{
		Error: fmt.Sprintf("%s: code %d: %s", codespace, code, reason),
	}}
}
