// Bindings of contracts/CityAttestationRegistry.sol, written by contracts/gen from contracts/build/CityAttestationRegistry.{abi,bin}.
// Regenerate with scripts/contracts.sh.

// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package registry

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// CityAttestationRegistryMetaData contains all meta data concerning the CityAttestationRegistry contract.
var CityAttestationRegistryMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"string\",\"name\":\"chainId_\",\"type\":\"string\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"issuerDid\",\"type\":\"string\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"issuerMethod\",\"type\":\"string\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"subjectDid\",\"type\":\"string\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"credentialType\",\"type\":\"string\"},{\"indexed\":false,\"internalType\":\"bytes\",\"name\":\"digest\",\"type\":\"bytes\"},{\"indexed\":false,\"internalType\":\"int64\",\"name\":\"validFrom\",\"type\":\"int64\"},{\"indexed\":false,\"internalType\":\"int64\",\"name\":\"validUntil\",\"type\":\"int64\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"issuerSeq\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"issuedBlock\",\"type\":\"uint64\"}],\"name\":\"Issued\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"issuerDid\",\"type\":\"string\"},{\"indexed\":false,\"internalType\":\"string\",\"name\":\"issuerMethod\",\"type\":\"string\"},{\"indexed\":false,\"internalType\":\"uint8\",\"name\":\"newStatus\",\"type\":\"uint8\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"issuerSeq\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"statusBlock\",\"type\":\"uint64\"}],\"name\":\"StatusChanged\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"admin\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"chainId\",\"outputs\":[{\"internalType\":\"string\",\"name\":\"\",\"type\":\"string\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"},{\"internalType\":\"string\",\"name\":\"issuerDid\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"issuerMethod\",\"type\":\"string\"},{\"internalType\":\"uint8\",\"name\":\"newStatus\",\"type\":\"uint8\"},{\"internalType\":\"uint64\",\"name\":\"issuerSeq\",\"type\":\"uint64\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"changeStatus\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"string\",\"name\":\"issuerDid\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"issuerMethod\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"subjectDid\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"credentialType\",\"type\":\"string\"},{\"internalType\":\"bytes\",\"name\":\"digest\",\"type\":\"bytes\"},{\"internalType\":\"int64\",\"name\":\"validFrom\",\"type\":\"int64\"},{\"internalType\":\"int64\",\"name\":\"validUntil\",\"type\":\"int64\"},{\"internalType\":\"uint64\",\"name\":\"issuerSeq\",\"type\":\"uint64\"},{\"internalType\":\"bytes\",\"name\":\"signature\",\"type\":\"bytes\"}],\"name\":\"issue\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"id\",\"type\":\"bytes32\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"issued\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"issuerDidOf\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"issuerOf\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"issuerSeqs\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"keys\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"string\",\"name\":\"did\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"method\",\"type\":\"string\"},{\"internalType\":\"address\",\"name\":\"key\",\"type\":\"address\"}],\"name\":\"setKey\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"string\",\"name\":\"credentialType\",\"type\":\"string\"},{\"internalType\":\"string\",\"name\":\"issuerDid\",\"type\":\"string\"},{\"internalType\":\"bool\",\"name\":\"ok\",\"type\":\"bool\"}],\"name\":\"setTrusted\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"status\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"trusted\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "CityAttestationRegistry",
	Bin: "0x60806040523461029957611e0b803803806100198161029e565b928339810190602081830312610299578051906001600160401b038211610299570181601f82011215610299578051906001600160401b0382116102195761006a601f8301601f191660200161029e565b92828452602083830101116102995760005b828110610284578360006020858301015280511561022f57600080546001600160a01b0319163317905580516001600160401b03811161021957600154600181811c9116801561020f575b60208210146101f957601f8111610187575b50602091601f821160011461012357918192600092610118575b50508160011b916000199060031b1c1916176001555b604051611b4790816102c48239f35b0151905082806100f3565b601f198216926001600052806000209160005b85811061016f57508360019510610156575b505050811b01600155610109565b015160001960f88460031b161c19169055828080610148565b91926020600181928685015181550194019201610136565b818111156100d9576001600052601f820160051c7fb10e2d527612073b26eecdfd717e6a320cf44b4afac2b0732d9fcbe2b7fa0cf6602084106101f0575b81601f9101920160051c039060005b8281106101e25750506100d9565b6000828201556001016101d4565b600091506101c5565b634e487b7160e01b600052602260045260246000fd5b90607f16906100c7565b634e487b7160e01b600052604160045260246000fd5b60405162461bcd60e51b815260206004820152602760248201527f436974794174746573746174696f6e52656769737472793a20656d70747920636044820152661a185a5b881a5960ca1b6064820152608490fd5b8060208092840101518282870101520161007c565b600080fd5b6040519190601f01601f191682016001600160401b038111838210176102195760405256fe610280604052600436101561001357600080fd5b60003560e01c806325cbd3f91461124a5780633980d0451461121957806347b43f011461116c5780634ddd73c01461114057806352ad0d5e14611114578063821925f614610a525780638e304e1614610a2657806396e3ef09146109f15780639a8a059214610903578063c59a138b146108d7578063d41d7c801461010e578063dde5b7a1146100da5763f851a440146100ac57600080fd5b346100d55760003660031901126100d5576000546040516001600160a01b039091168152602090f35b600080fd5b346100d55760203660031901126100d5576004356000526002602052602060018060a01b0360406000205416604051908152f35b346100d5576101203660031901126100d5576004356001600160401b0381116100d55761013f903690600401611378565b90610200526024356001600160401b0381116100d557610163903690600401611378565b61022052906044356001600160401b0381116100d557610187903690600401611378565b6102605260e0526064356001600160401b0381116100d5576101ad903690600401611378565b61010052610240526084356001600160401b0381116100d5576101d4903690600401611378565b610120526101405260a4356101c0819052600781900b90036100d55760c435610160819052600781900b90036100d55760e4356101808190526001600160401b03811690036100d5576001600160401b0361010435116100d55761023e3661010435600401611378565b6101a0526101e05261025c61025736836102005161149e565b6116c2565b1561086c5760405160208101906102918161028385610200516101005161024051886114e4565b03601f1981018352826113df565b519020600052600360205260ff60406000205416156107f257803661020051916102ba9261149e565b80519060200120918260005260046020526040600020546001600160401b0316610180516001600160401b0316116102f190611502565b604060c081905280519061030590826113df565b601d815260208101907f6369747972656c61792f6469642f76312f6174746573746174696f6e000000008252610339611565565b61034290611858565b90843661020051916103539261149e565b61035c90611858565b36610220519061036c918761149e565b61037590611858565b6102605160e05161038791369161149e565b61039090611858565b9036610100519061024051916103a59261149e565b6103ae90611858565b9260c05151958695602087019889915180926103c992611416565b8601815191826020830191602001916103e192611416565b016020018082516020819401916103f792611416565b0180825160208194019161040a92611416565b0180825160208194019161041d92611416565b0180825160208194019161043092611416565b0103601f198101825261044390826113df565b610120516101405161045691369161149e565b61045f90611858565b9060c051519182916020830194859151809261047a92611416565b82018151918260208301916020019161049292611416565b016020016001600160401b0360c01b6101c05160c01b1681526001600160401b0360c01b6101605160c01b1660088201526001600160401b0360c01b6101805160c01b16601082015203600719810182526018016104f090826113df565b60c051518092819251809261050492611416565b810103905a916000916002602094fa156107e5576000805160a052600560205260c051902054610783576106a96106906106c2926106796106da956107249761056861055436846102005161149e565b61056236610220518861149e565b90611803565b61057b6101a0516101e05160a0516118ff565b6000828152600260205260c0519020546001600160a01b0382811691161480610771575b6105a89061161e565b82600052600460205260c0516000206001600160401b0361018051166001600160401b031982541617905560c05151602081019160a051835260018060a01b031660c0518201526001600160401b03431660608201526060815261060d6080826113df565b51902060a051600052600560205260c0516000205560a0516000526006602052600160c0516000205560a051600052600760205260c0516000205560a051600052600860205260c0516000205560c0515160805261014060805152610140608051019061020051611690565b906080518203602060805101526102205190611690565b608051810360c05160805101526102605160e051611690565b6080518103606060805101526101005161024051611690565b60805181036080805101526101205161014051611690565b6101c05160070b60a060805101526101605160070b60c060805101526001600160401b03610180511660e06080510152608051810361010060805101526101a0516101e051611690565b6001600160401b03431661012060805101527fef6db95e6c05cc83199fd5f8afc14ae2bfd29675e3c55297193f75263d47072060a051916080519003608051a2602060c0515160a0518152f35b506001600160a01b038116151561059f565b60c0515162461bcd60e51b815260206004820152603360248201527f436974794174746573746174696f6e52656769737472793a20617474657374616044820152721d1a5bdb88185b1c9958591e481a5cdcdd5959606a1b6064820152608490fd5b60c051513d6000823e3d90fd5b60405162461bcd60e51b815260206004820152604660248201527f436974794174746573746174696f6e52656769737472793a206973737565722060448201527f6973206e6f74207472757374656420666f72207468652063726564656e7469616064820152656c207479706560d01b608482015260a490fd5b60405162461bcd60e51b815260206004820152603960248201527f436974794174746573746174696f6e52656769737472793a206973737565722060448201527f6973206e6f74206120444944206f6620746869732063697479000000000000006064820152608490fd5b346100d55760203660031901126100d55760043560005260056020526020604060002054604051908152f35b346100d55760003660031901126100d5576040516001546000610925826113a5565b8084526020840192600181169081156109d7575060011461097d575b61096f60408585610954828703836113df565b82519384926020845251809281602086015285850190611416565b601f01601f19168101030190f35b6001600090815291507fb10e2d527612073b26eecdfd717e6a320cf44b4afac2b0732d9fcbe2b7fa0cf65b8183106109bd57505082016020016040610941565b6001816020929493945483858901015201910191906109a8565b60ff1916845250151560051b830160200190506040610941565b346100d55760203660031901126100d557600435600052600460205260206001600160401b0360406000205416604051908152f35b346100d55760203660031901126100d55760043560005260076020526020604060002054604051908152f35b346100d55760c03660031901126100d5576024356001600160401b0381116100d557610a82903690600401611378565b906044356001600160401b0381116100d557610aa2903690600401611378565b909160ff60643516606435036100d5576084356001600160401b03811681036100d55760a4356001600160401b0381116100d557610ae4903690600401611378565b9490936004356000526005602052604060002054156110b757610b0836888661149e565b60208151910120936004356000526008602052846040600020540361105457600160ff60643516148015611045575b8015611036575b15610fe157600435600052600660205260ff6040600020541660028114610f845760ff6064351614610f2d57846000526004602052610b956001600160401b03604060002054166001600160401b03861611611502565b604097885195610ba58a886113df565b601c87527f6369747972656c61792f6469642f76312f7265766f636174696f6e00000000006020880152610bdf610bda611565565b611858565b966060978b51610bef8a826113df565b8c8152601f198a0136602083013760005b60208110610e595750610c1290611858565b908c610c1f36878961149e565b610c2890611858565b610c33368a8c61149e565b610c3c90611858565b91519384936020850196878151602081930191610c5892611416565b850181519182602083019160200191610c7092611416565b01602001808251602081940191610c8692611416565b01808251602081940191610c9992611416565b01808251602081940191610cac92611416565b0160ff60c01b60643560c01b1681526001600160401b0360c01b8a60c01b16600882015203600f1981018252601001610ce590826113df565b8b5180928192518092610cf792611416565b810103905a916000916002602094fa15610e4e57956001600160401b037f789b7b496d6ec71982fdec800170bf5130ce0bc5d8f576f094681a9a280d215296610e0d610e2a978d97610dff8e988e9860c09e610d9c8d610d5a8e8e6000516118ff565b90610d74610d6936878961149e565b610562368b8d61149e565b6000908152600260205220546001600160a01b03918216911681149081610e44575b5061161e565b60005260046020528b6000208888168919825416179055600435600052600660205270ffffffffffffffff0000000000000000004360481b1668ffffffffffffffff008860081b1660ff6064351617178c600020558b519e8f8181520191611690565b8c810360208e015291611690565b9560ff60643516908a015216908701528583036080870152611690565b916001600160401b03431660a082015280600435930390a2005b9050151538610d96565b89513d6000823e3d90fd5b600435811a60ff8160041c166010811015610f0157600183901b916001600160ff1b0384168403610f1757600f916f181899199a1a9b1b9c1cb0b131b232b360811b901a610ea784876116b1565b53166010811015610f0157600060018301809311610eed5750600192916f181899199a1a9b1b9c1cb0b131b232b360811b90911a90610ee690856116b1565b5301610c00565b634e487b7160e01b81526011600452602490fd5b634e487b7160e01b600052603260045260246000fd5b634e487b7160e01b600052601160045260246000fd5b60405162461bcd60e51b815260206004820152602960248201527f436974794174746573746174696f6e52656769737472793a20737461747573206044820152681d5b98da185b99d95960ba1b6064820152608490fd5b60405162461bcd60e51b815260206004820152602f60248201527f436974794174746573746174696f6e52656769737472793a206174746573746160448201526e1d1a5bdb881a5cc81c995d9bdad959608a1b6064820152608490fd5b60405162461bcd60e51b815260206004820152602760248201527f436974794174746573746174696f6e52656769737472793a20696e76616c69646044820152662073746174757360c81b6064820152608490fd5b50600360ff6064351614610b3e565b50600260ff6064351614610b37565b60405162461bcd60e51b815260206004820152603560248201527f436974794174746573746174696f6e52656769737472793a206e6f74207468656044820152741030ba3a32b9ba30ba34b7b713b99034b9b9bab2b960591b6064820152608490fd5b60405162461bcd60e51b815260206004820152602f60248201527f436974794174746573746174696f6e52656769737472793a206174746573746160448201526e1d1a5bdb881b9bdd081a5cdcdd5959608a1b6064820152608490fd5b346100d55760203660031901126100d55760043560005260066020526020604060002054604051908152f35b346100d55760203660031901126100d55760043560005260086020526020604060002054604051908152f35b346100d55760603660031901126100d5576004356001600160401b0381116100d55761119c903690600401611378565b906024356001600160401b0381116100d5576111bc903690600401611378565b604435938415158095036100d5576102836111f7926111e660018060a01b03600054163314611439565b6040519485936020850197886114e4565b519020600052600360205260406000209060ff80198354169116179055600080f35b346100d55760203660031901126100d5576004356000526003602052602060ff604060002054166040519015158152f35b346100d55760603660031901126100d5576004356001600160401b0381116100d55761127a903690600401611378565b6024356001600160401b0381116100d557611299903690600401611378565b6044356001600160a01b038116949192908590036100d5576112c660018060a01b03600054163314611439565b6112d461025736868561149e565b15611314576112eb610562926112f395369161149e565b92369161149e565b600090815260026020526040902080546001600160a01b0319169091179055005b60405162461bcd60e51b815260206004820152603660248201527f436974794174746573746174696f6e52656769737472793a20646964206973206044820152756e6f74206120444944206f662074686973206369747960501b6064820152608490fd5b9181601f840112156100d5578235916001600160401b0383116100d557602083818601950101116100d557565b90600182811c921680156113d5575b60208310146113bf57565b634e487b7160e01b600052602260045260246000fd5b91607f16916113b4565b90601f801991011681019081106001600160401b0382111761140057604052565b634e487b7160e01b600052604160045260246000fd5b60005b8381106114295750506000910152565b8181015183820152602001611419565b1561144057565b60405162461bcd60e51b815260206004820152603060248201527f436974794174746573746174696f6e52656769737472793a2063616c6c65722060448201526f34b9903737ba103a34329030b236b4b760811b6064820152608490fd5b9291926001600160401b03821161140057604051916114c7601f8201601f1916602001846113df565b8294818452818301116100d5578281602093846000960137010152565b91849392816001969382370191600083528483013701016000815290565b1561150957565b60405162461bcd60e51b815260206004820152602e60248201527f436974794174746573746174696f6e52656769737472793a207374616c65206960448201526d73737565722073657175656e636560901b6064820152608490fd5b6040519060008260015491611579836113a5565b80835292600181169081156115ff575060011461159f575b61159d925003836113df565b565b506001600090815290917fb10e2d527612073b26eecdfd717e6a320cf44b4afac2b0732d9fcbe2b7fa0cf65b8183106115e357505090602061159d92820101611591565b60209193508060019154838589010152019101909184926115cb565b6020925061159d94915060ff191682840152151560051b820101611591565b1561162557565b60405162461bcd60e51b815260206004820152603760248201527f436974794174746573746174696f6e52656769737472793a207369676e65722060448201527f6973206e6f7420746865206973737565722773206b65790000000000000000006064820152608490fd5b908060209392818452848401376000828201840152601f01601f1916010190565b908151811015610f01570160200190565b604051683234b21d31b4ba3c9d60b91b60208201528060006001546116e6816113a5565b90600181169081156117df575060011461177d575b506117199181601d60f91b6001935203601e198101845201826113df565b8151815110156117765760005b815181101561176e576001600160f81b031961174282856116b1565b51166001600160f81b031961175783856116b1565b51160361176657600101611726565b505050600090565b505050600190565b5050600090565b9150506001600052817fb10e2d527612073b26eecdfd717e6a320cf44b4afac2b0732d9fcbe2b7fa0cf66000905b8382106117c457509091820160290190506117196116fb565b602091925080600191546029858801015201910183916117ab565b60ff19166029858101919091528215159092028401909101915061171990506116fb565b906118526001602092604051938491816118268185019889815193849201611416565b83016000838201526118418251809385602185019101611416565b01010301601f1981018352826113df565b51902090565b63ffffffff8151116118aa576118a76024825160405193849163ffffffff60e01b9060e01b1660208301526118968151809260208686019101611416565b81010301601f1981018352826113df565b90565b60405162461bcd60e51b815260206004820152602760248201527f436974794174746573746174696f6e52656769737472793a2076616c756520746044820152666f6f206c6f6e6760c81b6064820152608490fd5b60418303611acb57826020116100d557813591836040116100d55760208101359360401015610f01576040013560f81c7f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a08411611a8357601b8110611a61575b60ff1690601b82148015611a57575b15611a0c57602093600093608093604051938452868401526040830152606082015282805260015afa15611a0057600051906001600160a01b038216156119b157565b60405162461bcd60e51b81526020600482015260336024820152600080516020611b1b8339815191526044820152723932903237b2b9903737ba103932b1b7bb32b960691b6064820152608490fd5b6040513d6000823e3d90fd5b60405162461bcd60e51b815260206004820152602f6024820152600080516020611b1b83398151915260448201526e1c99481d881a5cc81a5b9d985b1a59608a1b6064820152608490fd5b50601c821461196e565b601b0160ff81111561195f57634e487b7160e01b600052601160045260246000fd5b60405162461bcd60e51b815260206004820152602c6024820152600080516020611b1b83398151915260448201526b0e4ca40e640d2e640d0d2ced60a31b6064820152608490fd5b60405162461bcd60e51b81526020600482015260336024820152600080516020611b1b8339815191526044820152727265206d75737420626520363520627974657360681b6064820152608490fdfe436974794174746573746174696f6e52656769737472793a207369676e617475a164736f6c6343000825000a",
}

// CityAttestationRegistry is an auto generated Go binding around an Ethereum contract.
type CityAttestationRegistry struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *CityAttestationRegistry) GetABI() abi.ABI {
	return c.abi
}

// NewCityAttestationRegistry creates a new instance of CityAttestationRegistry.
func NewCityAttestationRegistry() *CityAttestationRegistry {
	parsed, err := CityAttestationRegistryMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &CityAttestationRegistry{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *CityAttestationRegistry) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(string chainId_) returns()
func (cityAttestationRegistry *CityAttestationRegistry) PackConstructor(chainId_ string) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("", chainId_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackAdmin is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf851a440.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function admin() view returns(address)
func (cityAttestationRegistry *CityAttestationRegistry) PackAdmin() []byte {
	enc, err := cityAttestationRegistry.abi.Pack("admin")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAdmin is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf851a440.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function admin() view returns(address)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackAdmin() ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("admin")
}

// UnpackAdmin is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf851a440.
//
// Solidity: function admin() view returns(address)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackAdmin(data []byte) (common.Address, error) {
	out, err := cityAttestationRegistry.abi.Unpack("admin", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackChainId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9a8a0592.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function chainId() view returns(string)
func (cityAttestationRegistry *CityAttestationRegistry) PackChainId() []byte {
	enc, err := cityAttestationRegistry.abi.Pack("chainId")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackChainId is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9a8a0592.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function chainId() view returns(string)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackChainId() ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("chainId")
}

// UnpackChainId is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x9a8a0592.
//
// Solidity: function chainId() view returns(string)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackChainId(data []byte) (string, error) {
	out, err := cityAttestationRegistry.abi.Unpack("chainId", data)
	if err != nil {
		return *new(string), err
	}
	out0 := *abi.ConvertType(out[0], new(string)).(*string)
	return out0, nil
}

// PackChangeStatus is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x821925f6.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function changeStatus(bytes32 id, string issuerDid, string issuerMethod, uint8 newStatus, uint64 issuerSeq, bytes signature) returns()
func (cityAttestationRegistry *CityAttestationRegistry) PackChangeStatus(id [32]byte, issuerDid string, issuerMethod string, newStatus uint8, issuerSeq uint64, signature []byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("changeStatus", id, issuerDid, issuerMethod, newStatus, issuerSeq, signature)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackChangeStatus is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x821925f6.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function changeStatus(bytes32 id, string issuerDid, string issuerMethod, uint8 newStatus, uint64 issuerSeq, bytes signature) returns()
func (cityAttestationRegistry *CityAttestationRegistry) TryPackChangeStatus(id [32]byte, issuerDid string, issuerMethod string, newStatus uint8, issuerSeq uint64, signature []byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("changeStatus", id, issuerDid, issuerMethod, newStatus, issuerSeq, signature)
}

// PackIssue is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd41d7c80.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function issue(string issuerDid, string issuerMethod, string subjectDid, string credentialType, bytes digest, int64 validFrom, int64 validUntil, uint64 issuerSeq, bytes signature) returns(bytes32 id)
func (cityAttestationRegistry *CityAttestationRegistry) PackIssue(issuerDid string, issuerMethod string, subjectDid string, credentialType string, digest []byte, validFrom int64, validUntil int64, issuerSeq uint64, signature []byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("issue", issuerDid, issuerMethod, subjectDid, credentialType, digest, validFrom, validUntil, issuerSeq, signature)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIssue is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd41d7c80.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function issue(string issuerDid, string issuerMethod, string subjectDid, string credentialType, bytes digest, int64 validFrom, int64 validUntil, uint64 issuerSeq, bytes signature) returns(bytes32 id)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackIssue(issuerDid string, issuerMethod string, subjectDid string, credentialType string, digest []byte, validFrom int64, validUntil int64, issuerSeq uint64, signature []byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("issue", issuerDid, issuerMethod, subjectDid, credentialType, digest, validFrom, validUntil, issuerSeq, signature)
}

// UnpackIssue is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd41d7c80.
//
// Solidity: function issue(string issuerDid, string issuerMethod, string subjectDid, string credentialType, bytes digest, int64 validFrom, int64 validUntil, uint64 issuerSeq, bytes signature) returns(bytes32 id)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackIssue(data []byte) ([32]byte, error) {
	out, err := cityAttestationRegistry.abi.Unpack("issue", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackIssued is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc59a138b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function issued(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) PackIssued(arg0 [32]byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("issued", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIssued is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc59a138b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function issued(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackIssued(arg0 [32]byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("issued", arg0)
}

// UnpackIssued is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xc59a138b.
//
// Solidity: function issued(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackIssued(data []byte) ([32]byte, error) {
	out, err := cityAttestationRegistry.abi.Unpack("issued", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackIssuerDidOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4ddd73c0.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function issuerDidOf(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) PackIssuerDidOf(arg0 [32]byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("issuerDidOf", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIssuerDidOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4ddd73c0.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function issuerDidOf(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackIssuerDidOf(arg0 [32]byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("issuerDidOf", arg0)
}

// UnpackIssuerDidOf is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x4ddd73c0.
//
// Solidity: function issuerDidOf(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackIssuerDidOf(data []byte) ([32]byte, error) {
	out, err := cityAttestationRegistry.abi.Unpack("issuerDidOf", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackIssuerOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8e304e16.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function issuerOf(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) PackIssuerOf(arg0 [32]byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("issuerOf", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIssuerOf is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8e304e16.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function issuerOf(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackIssuerOf(arg0 [32]byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("issuerOf", arg0)
}

// UnpackIssuerOf is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8e304e16.
//
// Solidity: function issuerOf(bytes32 ) view returns(bytes32)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackIssuerOf(data []byte) ([32]byte, error) {
	out, err := cityAttestationRegistry.abi.Unpack("issuerOf", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackIssuerSeqs is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x96e3ef09.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function issuerSeqs(bytes32 ) view returns(uint64)
func (cityAttestationRegistry *CityAttestationRegistry) PackIssuerSeqs(arg0 [32]byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("issuerSeqs", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIssuerSeqs is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x96e3ef09.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function issuerSeqs(bytes32 ) view returns(uint64)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackIssuerSeqs(arg0 [32]byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("issuerSeqs", arg0)
}

// UnpackIssuerSeqs is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x96e3ef09.
//
// Solidity: function issuerSeqs(bytes32 ) view returns(uint64)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackIssuerSeqs(data []byte) (uint64, error) {
	out, err := cityAttestationRegistry.abi.Unpack("issuerSeqs", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackKeys is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xdde5b7a1.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function keys(bytes32 ) view returns(address)
func (cityAttestationRegistry *CityAttestationRegistry) PackKeys(arg0 [32]byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("keys", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackKeys is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xdde5b7a1.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function keys(bytes32 ) view returns(address)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackKeys(arg0 [32]byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("keys", arg0)
}

// UnpackKeys is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xdde5b7a1.
//
// Solidity: function keys(bytes32 ) view returns(address)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackKeys(data []byte) (common.Address, error) {
	out, err := cityAttestationRegistry.abi.Unpack("keys", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackSetKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x25cbd3f9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function setKey(string did, string method, address key) returns()
func (cityAttestationRegistry *CityAttestationRegistry) PackSetKey(did string, method string, key common.Address) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("setKey", did, method, key)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSetKey is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x25cbd3f9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function setKey(string did, string method, address key) returns()
func (cityAttestationRegistry *CityAttestationRegistry) TryPackSetKey(did string, method string, key common.Address) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("setKey", did, method, key)
}

// PackSetTrusted is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x47b43f01.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function setTrusted(string credentialType, string issuerDid, bool ok) returns()
func (cityAttestationRegistry *CityAttestationRegistry) PackSetTrusted(credentialType string, issuerDid string, ok bool) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("setTrusted", credentialType, issuerDid, ok)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSetTrusted is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x47b43f01.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function setTrusted(string credentialType, string issuerDid, bool ok) returns()
func (cityAttestationRegistry *CityAttestationRegistry) TryPackSetTrusted(credentialType string, issuerDid string, ok bool) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("setTrusted", credentialType, issuerDid, ok)
}

// PackStatus is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x52ad0d5e.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function status(bytes32 ) view returns(uint256)
func (cityAttestationRegistry *CityAttestationRegistry) PackStatus(arg0 [32]byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("status", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackStatus is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x52ad0d5e.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function status(bytes32 ) view returns(uint256)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackStatus(arg0 [32]byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("status", arg0)
}

// UnpackStatus is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x52ad0d5e.
//
// Solidity: function status(bytes32 ) view returns(uint256)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackStatus(data []byte) (*big.Int, error) {
	out, err := cityAttestationRegistry.abi.Unpack("status", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackTrusted is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3980d045.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function trusted(bytes32 ) view returns(bool)
func (cityAttestationRegistry *CityAttestationRegistry) PackTrusted(arg0 [32]byte) []byte {
	enc, err := cityAttestationRegistry.abi.Pack("trusted", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTrusted is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3980d045.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function trusted(bytes32 ) view returns(bool)
func (cityAttestationRegistry *CityAttestationRegistry) TryPackTrusted(arg0 [32]byte) ([]byte, error) {
	return cityAttestationRegistry.abi.Pack("trusted", arg0)
}

// UnpackTrusted is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x3980d045.
//
// Solidity: function trusted(bytes32 ) view returns(bool)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackTrusted(data []byte) (bool, error) {
	out, err := cityAttestationRegistry.abi.Unpack("trusted", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// CityAttestationRegistryIssued represents a Issued event raised by the CityAttestationRegistry contract.
type CityAttestationRegistryIssued struct {
	Id             [32]byte
	IssuerDid      string
	IssuerMethod   string
	SubjectDid     string
	CredentialType string
	Digest         []byte
	ValidFrom      int64
	ValidUntil     int64
	IssuerSeq      uint64
	Signature      []byte
	IssuedBlock    uint64
	Raw            *types.Log // Blockchain specific contextual infos
}

const CityAttestationRegistryIssuedEventName = "Issued"

// ContractEventName returns the user-defined event name.
func (CityAttestationRegistryIssued) ContractEventName() string {
	return CityAttestationRegistryIssuedEventName
}

// UnpackIssuedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Issued(bytes32 indexed id, string issuerDid, string issuerMethod, string subjectDid, string credentialType, bytes digest, int64 validFrom, int64 validUntil, uint64 issuerSeq, bytes signature, uint64 issuedBlock)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackIssuedEvent(log *types.Log) (*CityAttestationRegistryIssued, error) {
	event := "Issued"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != cityAttestationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(CityAttestationRegistryIssued)
	if len(log.Data) > 0 {
		if err := cityAttestationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range cityAttestationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// CityAttestationRegistryStatusChanged represents a StatusChanged event raised by the CityAttestationRegistry contract.
type CityAttestationRegistryStatusChanged struct {
	Id           [32]byte
	IssuerDid    string
	IssuerMethod string
	NewStatus    uint8
	IssuerSeq    uint64
	Signature    []byte
	StatusBlock  uint64
	Raw          *types.Log // Blockchain specific contextual infos
}

const CityAttestationRegistryStatusChangedEventName = "StatusChanged"

// ContractEventName returns the user-defined event name.
func (CityAttestationRegistryStatusChanged) ContractEventName() string {
	return CityAttestationRegistryStatusChangedEventName
}

// UnpackStatusChangedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event StatusChanged(bytes32 indexed id, string issuerDid, string issuerMethod, uint8 newStatus, uint64 issuerSeq, bytes signature, uint64 statusBlock)
func (cityAttestationRegistry *CityAttestationRegistry) UnpackStatusChangedEvent(log *types.Log) (*CityAttestationRegistryStatusChanged, error) {
	event := "StatusChanged"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != cityAttestationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(CityAttestationRegistryStatusChanged)
	if len(log.Data) > 0 {
		if err := cityAttestationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range cityAttestationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}
